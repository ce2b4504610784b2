//! Profile validation cases and the built-in library's own test cases.

use super::library::{BUILTIN, builtin};
use super::parse::parse_profile;
use super::plan::{BlockData, PointValues, decode_block, plan};
use super::profile::{Profile, Table};

fn err(text: &str) -> String {
    parse_profile("p.toml", text).unwrap_err().to_string()
}

const HEAD: &str = "name = \"t\"\n";

#[test]
fn unknown_type_is_reported_at_its_line_and_column() {
    let e = err(&format!(
        "{HEAD}[[points]]\nname = \"a\"\ntable = \"holding\"\naddress = 0\ntype = \"u8\"\n"
    ));
    assert!(
        e.starts_with("p.toml:6:8: points[0].type: unknown variant `u8`"),
        "{e}"
    );
}

#[test]
fn unknown_key_is_reported() {
    let e = err(&format!(
        "{HEAD}[[points]]\nname = \"a\"\ntable = \"holding\"\naddres = 0\ntype = \"u16\"\n"
    ));
    assert!(e.starts_with("p.toml:"), "{e}");
    assert!(e.contains("addres"), "{e}");
}

#[test]
fn overlapping_points_are_rejected() {
    let e = err(&format!(
        "{HEAD}[[points]]\nname = \"a\"\ntable = \"holding\"\naddress = 0\ntype = \"f32\"\n\
         [[points]]\nname = \"b\"\ntable = \"holding\"\naddress = 1\ntype = \"u16\"\n"
    ));
    assert_eq!(
        e,
        "p.toml:10:11: points[1].address: point `b` overlaps point `a` at holding address 1"
    );
}

#[test]
fn distinct_bits_of_one_register_do_not_overlap_but_equal_bits_do() {
    let two = |b1: u8, b2: u8| {
        format!(
            "{HEAD}[[points]]\nname = \"a\"\ntable = \"input\"\naddress = 3\ntype = \"bool\"\nbit = {b1}\n\
             [[points]]\nname = \"b\"\ntable = \"input\"\naddress = 3\ntype = \"bool\"\nbit = {b2}\n"
        )
    };
    assert!(parse_profile("p.toml", &two(0, 1)).is_ok());
    assert!(err(&two(4, 4)).contains("overlaps"));
}

#[test]
fn word_swapping_order_on_a_16_bit_point_is_rejected() {
    let e = err(&format!(
        "{HEAD}[[points]]\nname = \"a\"\ntable = \"holding\"\naddress = 0\ntype = \"u16\"\nbyte_order = \"CDAB\"\n"
    ));
    assert!(
        e.starts_with("p.toml:7:14: points[0].byte_order: expected ABCD or BADC"),
        "{e}"
    );
    let bad = err(&format!(
        "{HEAD}[[points]]\nname = \"a\"\ntable = \"holding\"\naddress = 0\ntype = \"f32\"\nbyte_order = \"ABDC\"\n"
    ));
    assert!(
        bad.starts_with("p.toml:7:14: points[0].byte_order: unknown variant `ABDC`"),
        "{bad}"
    );
}

#[test]
fn address_out_of_range_is_rejected() {
    for (addr, ty) in [("65536", "u16"), ("-1", "u16"), ("65535", "u32")] {
        let e = err(&format!(
            "{HEAD}[[points]]\nname = \"a\"\ntable = \"holding\"\naddress = {addr}\ntype = \"{ty}\"\n"
        ));
        assert!(e.starts_with("p.toml:5:11: points[0].address:"), "{e}");
        assert!(e.contains("out of range"), "{e}");
    }
}

#[test]
fn table_and_type_mismatches_are_rejected() {
    let coil_u16 = err(&format!(
        "{HEAD}[[points]]\nname = \"a\"\ntable = \"coil\"\naddress = 0\ntype = \"u16\"\n"
    ));
    assert!(
        coil_u16.contains("points[0].type: expected `bool`"),
        "{coil_u16}"
    );
    let bool_without_bit = err(&format!(
        "{HEAD}[[points]]\nname = \"a\"\ntable = \"holding\"\naddress = 0\ntype = \"bool\"\n"
    ));
    assert!(
        bool_without_bit.contains("points[0].bit"),
        "{bool_without_bit}"
    );
    let numeric_target_on_bool = err(&format!(
        "{HEAD}[[points]]\nname = \"a\"\ntable = \"coil\"\naddress = 0\ntype = \"bool\"\nmaps_to = \"environment.co2\"\n"
    ));
    assert!(
        numeric_target_on_bool.contains("maps_to: expected a number"),
        "{numeric_target_on_bool}"
    );
}

#[test]
fn half_a_measurement_is_rejected() {
    let e = err(&format!(
        "{HEAD}[[points]]\nname = \"t\"\ntable = \"input\"\naddress = 0\ntype = \"i16\"\nmaps_to = \"environment.temperature\"\n"
    ));
    assert!(
        e.contains("also needs a point mapped to `environment.humidity`"),
        "{e}"
    );
}

#[test]
fn syntax_errors_carry_a_location() {
    let e = err("name = \"t\"\n[[points]\n");
    assert!(e.starts_with("p.toml:2:"), "{e}");
}

#[test]
fn commands_must_target_writable_tables() {
    let e = err(&format!(
        "{HEAD}[[points]]\nname = \"a\"\ntable = \"coil\"\naddress = 0\ntype = \"bool\"\n\
         [commands.reset]\ntable = \"input\"\naddress = 1\nvalue = 1\n"
    ));
    assert!(
        e.contains("commands.reset.table: expected `coil` or `holding`"),
        "{e}"
    );
}

/// Reads a profile's example tables the way the driver would, block by block.
pub(crate) fn read_example(p: &Profile) -> PointValues {
    let ex = p.example.clone().unwrap_or_default();
    let mut values = PointValues::empty(p.points.len());
    for b in plan(&p.points, p.max_gap) {
        let addrs = b.start..b.start.saturating_add(b.count);
        let data = match b.table {
            Table::Coil => BlockData::Bits(
                addrs
                    .map(|a| ex.coil.get(&a).copied().unwrap_or(false))
                    .collect(),
            ),
            Table::Discrete => BlockData::Bits(
                addrs
                    .map(|a| ex.discrete.get(&a).copied().unwrap_or(false))
                    .collect(),
            ),
            Table::Input => BlockData::Words(
                addrs
                    .map(|a| ex.input.get(&a).copied().unwrap_or(0))
                    .collect(),
            ),
            Table::Holding => BlockData::Words(
                addrs
                    .map(|a| ex.holding.get(&a).copied().unwrap_or(0))
                    .collect(),
            ),
        };
        decode_block(&p.points, &b, &data, &mut values).unwrap();
    }
    values
}

fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-6,
        _ => a == b,
    }
}

#[test]
fn every_builtin_profile_parses_and_decodes_its_example() {
    assert!(BUILTIN.len() >= 9);
    for (name, _) in BUILTIN {
        let p = builtin(name).unwrap().unwrap();
        assert_eq!(&p.name, name, "profile name matches its file");
        let ex = p
            .example
            .clone()
            .unwrap_or_else(|| panic!("{name} has no [example]"));
        assert_eq!(
            ex.expect.len(),
            p.points.len(),
            "{name}: example covers every point"
        );
        let got = read_example(&p).to_json(&p);
        for (point, want) in &ex.expect {
            let have = got
                .get(point)
                .unwrap_or_else(|| panic!("{name}.{point} not decoded"));
            assert!(
                same_json(have, want),
                "{name}.{point}: got {have}, want {want}"
            );
        }
    }
}

#[test]
fn errors_inside_command_tables_name_the_command() {
    let e = err(&format!(
        "{HEAD}[[points]]\nname = \"a\"\ntable = \"coil\"\naddress = 0\ntype = \"bool\"\n\
         [commands.reset]\ntable = \"coil\"\naddress = 1\nvalu = 1\n"
    ));
    assert!(
        e.starts_with("p.toml:10:1: commands.reset.valu: unknown field `valu`"),
        "{e}"
    );
}

mod fuzz {
    use proptest::prelude::*;

    use super::super::library::BUILTIN;
    use super::super::parse::parse_profile;

    proptest! {
        #[test]
        fn any_text_yields_a_profile_or_an_error_inside_the_file(text in "\\PC{0,300}") {
            if let Err(e) = parse_profile("f.toml", &text) {
                prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1) + 1);
                prop_assert!(e.column >= 1);
            }
        }

        #[test]
        fn mangled_library_profiles_never_panic(
            which in 0..BUILTIN.len(),
            cut in 0usize..4000,
            insert in "[a-z0-9=\"\\[\\] \n.-]{0,12}",
        ) {
            let (_, text) = BUILTIN[which];
            let mut at = cut.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let mangled = format!("{}{insert}{}", &text[..at], &text[at..]);
            let _ = parse_profile("m.toml", &mangled);
        }
    }
}
