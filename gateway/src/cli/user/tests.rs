use super::*;
use pingan_drivers::Timestamp;

fn add_args(dir: &std::path::Path, replace: bool) -> UserArgs {
    UserArgs {
        command: UserCommand::Add(AddArgs {
            name: "li.na".into(),
            data_dir: dir.to_owned(),
            role: None,
            replace,
            generate: true,
        }),
    }
}

fn printed_password(out: &[u8]) -> String {
    String::from_utf8_lossy(out)
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .map(str::to_owned)
        .unwrap_or_default()
}

#[tokio::test]
async fn adding_a_user_prints_a_generated_password_that_logs_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    run(add_args(dir.path(), false), &mut out).await.unwrap();
    let password = printed_password(&out);
    assert_eq!(password.len(), 19);
    assert!(String::from_utf8_lossy(&out).contains("user li.na added (admin)"));
    let store = crate::store::Store::open(dir.path()).unwrap();
    let auth = crate::web::auth::Auth::new(store.accounts().unwrap());
    assert!(
        auth.login(
            "li.na",
            &password,
            crate::web::auth::Peer(std::net::Ipv4Addr::LOCALHOST.into()),
            Timestamp::now(),
            &Timestamp::now
        )
        .await
        .is_ok()
    );
    let audit = store.actions(None, 5).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].via, Via::Cli);
    assert_eq!(audit[0].subject, ActionSubject::Account("li.na".into()));
}

#[tokio::test]
async fn adding_an_existing_user_fails_unless_replacing() {
    let dir = tempfile::tempdir().unwrap();
    run(add_args(dir.path(), false), &mut Vec::new())
        .await
        .unwrap();
    let again = run(add_args(dir.path(), false), &mut Vec::new()).await;
    assert!(matches!(
        again,
        Err(UserCliError::Auth(AuthError::UserExists(_)))
    ));
    run(add_args(dir.path(), true), &mut Vec::new())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_second_account_is_a_nurse_and_can_be_disabled_offline() {
    let dir = tempfile::tempdir().unwrap();
    run(add_args(dir.path(), false), &mut Vec::new())
        .await
        .unwrap();
    let mut out = Vec::new();
    let second = UserArgs {
        command: UserCommand::Add(AddArgs {
            name: "wang".into(),
            data_dir: dir.path().to_owned(),
            role: None,
            replace: false,
            generate: true,
        }),
    };
    run(second, &mut out).await.unwrap();
    assert!(String::from_utf8_lossy(&out).contains("(nurse)"));
    let disable = UserArgs {
        command: UserCommand::Disable(Named {
            name: "wang".into(),
            at: At {
                data_dir: dir.path().to_owned(),
            },
        }),
    };
    run(disable, &mut Vec::new()).await.unwrap();
    let mut out = Vec::new();
    let list = UserArgs {
        command: UserCommand::List(At {
            data_dir: dir.path().to_owned(),
        }),
    };
    run(list, &mut out).await.unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out),
        "li.na\tadmin\tenabled\nwang\tnurse\tdisabled\n"
    );
}
