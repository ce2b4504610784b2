use super::*;

const PEER: Peer = Peer(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

fn db() -> Accounts {
    crate::store::Store::temporary()
        .unwrap()
        .accounts()
        .unwrap()
}

#[test]
fn stored_password_is_an_argon2id_hash_not_the_password() {
    let db = db();
    add_user(&db, "li.na", "correct horse").unwrap();
    let rec = db.user("li.na").unwrap().unwrap();
    assert!(rec.phc.starts_with("$argon2id$"));
    assert!(
        !serde_json::to_string(&rec)
            .unwrap()
            .contains("correct horse")
    );
    assert!(verify(&rec.phc, "correct horse"));
    assert!(!verify(&rec.phc, "wrong horse"));
}

#[test]
fn adding_an_existing_user_fails_and_keeps_the_old_password() {
    let db = db();
    add_user(&db, "li", "password-1").unwrap();
    assert!(matches!(
        add_user(&db, "li", "password-2"),
        Err(AuthError::UserExists(_))
    ));
}

#[test]
fn short_passwords_and_bad_names_are_refused() {
    let db = db();
    assert!(matches!(
        add_user(&db, "li", "short"),
        Err(AuthError::WeakPassword(_))
    ));
    for name in ["", " li", "li\n", &"x".repeat(65)] {
        assert!(matches!(
            add_user(&db, name, "long enough"),
            Err(AuthError::InvalidName(_))
        ));
    }
}

#[test]
fn demo_user_gets_a_new_random_password_each_time() {
    let db = db();
    let (n1, p1) = create_demo_user(&db).unwrap();
    let (n2, p2) = create_demo_user(&db).unwrap();
    assert_eq!(n1, DEMO_USER);
    assert_eq!(n1, n2);
    assert_ne!(p1, p2);
    assert_eq!(p1.len(), 19);
    let rec = db.user(DEMO_USER).unwrap().unwrap();
    assert_eq!(
        (rec.role, rec.disabled),
        (Role::Admin, false),
        "the demo shows the admin's pages"
    );
}

#[tokio::test]
async fn login_opens_a_session_that_expires() {
    let db = db();
    add_user(&db, "li", "password-1").unwrap();
    let auth = Auth::new(db.clone());
    let t0 = Timestamp(1_700_000_000_000);
    let (token, rec) = auth
        .login("li", "password-1", PEER, t0, &|| t0)
        .await
        .unwrap();
    assert!(is_token(&token));
    assert!(is_token(&rec.csrf));
    assert_eq!(auth.session(&token, t0).unwrap(), Some(rec));
    assert_eq!(auth.session(&token, t0.plus(SESSION_TTL)).unwrap(), None);
}

#[tokio::test]
async fn the_database_holds_the_tokens_hash_which_does_not_log_in() {
    let db = db();
    add_user(&db, "li", "password-1").unwrap();
    let auth = Auth::new(db.clone());
    let t0 = Timestamp(1_700_000_000_000);
    let (token, _) = auth
        .login("li", "password-1", PEER, t0, &|| t0)
        .await
        .unwrap();
    let keys = db.session_keys().unwrap();
    assert_eq!(keys, vec![session_key(&token).to_vec()]);
    assert!(!keys.iter().any(|k| k == token.as_bytes()));
    let stolen: String = keys[0].iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(auth.session(&stolen, t0).unwrap(), None);
    assert!(auth.session(&token, t0).unwrap().is_some());
}

#[tokio::test]
async fn sessions_stored_under_raw_tokens_are_removed_at_start() {
    let db = db();
    let old = random_token();
    let rec = SessionRecord {
        user: "li".into(),
        csrf: random_token(),
        created_at: Timestamp(0),
        expires_at: Timestamp(i64::MAX),
    };
    db.put_session(old.as_bytes(), &rec).unwrap();
    let auth = Auth::new(db.clone());
    assert!(db.session_keys().unwrap().is_empty());
    assert_eq!(auth.session(&old, Timestamp(1)).unwrap(), None);
}

#[tokio::test(start_paused = true)]
async fn repeated_wrong_passwords_slow_the_address_but_not_the_nurse_elsewhere() {
    use super::super::throttle::{ADDR_FREE, USER_MAX_DELAY};
    let db = db();
    add_user(&db, "li", "password-1").unwrap();
    let auth = Auth::new(db.clone());
    let t0 = Timestamp(1_700_000_000_000);
    for _ in 0..ADDR_FREE {
        assert!(matches!(
            auth.login("li", "nope-nope", PEER, t0, &|| t0).await,
            Err(LoginError::BadCredentials)
        ));
    }
    assert!(matches!(
        auth.login("li", "password-1", PEER, t0, &|| t0).await,
        Err(LoginError::Throttled { .. })
    ));
    let station = Peer(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 7)));
    let started = tokio::time::Instant::now();
    assert!(
        auth.login("li", "password-1", station, t0, &|| t0)
            .await
            .is_ok()
    );
    assert!(
        started.elapsed() <= USER_MAX_DELAY,
        "held at most the user's maximum"
    );
}

#[test]
fn constant_time_eq_compares_content_and_length() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"ab"));
}
