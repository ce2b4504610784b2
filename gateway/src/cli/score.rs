//! `pingan score news2 …`: the NEWS2 chart on the command line, so clinicians can check the
//! gateway's scoring against the paper chart.
//!
//! Prints one JSON object `{"score", "partial", "missing", "points", "response"}`; exits 2 on an
//! implausible value (clap itself exits 2 on a malformed flag such as `--scale 3`).

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};

use crate::analytics::news2::{self, Acvpu, Observations, OutOfRange, Oxygen, Score, SpO2Scale};

/// `pingan score …`
#[derive(Debug, Clone, Args)]
pub struct ScoreArgs {
    /// What to score.
    #[command(subcommand)]
    pub command: ScoreCommand,
}

/// Scores the gateway can compute by hand.
#[derive(Debug, Clone, Subcommand)]
pub enum ScoreCommand {
    /// NEWS2 (Royal College of Physicians, 2017) from the given observations; unset ones are
    /// listed as missing and never imputed.
    News2(News2Args),
}

/// Air or oxygen on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum O2Arg {
    /// Room air.
    Air,
    /// Supplemental oxygen.
    Oxygen,
}

/// ACVPU on the command line: one capital letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AcvpuArg {
    /// Alert.
    #[value(name = "A", alias = "a")]
    A,
    /// New confusion.
    #[value(name = "C", alias = "c")]
    C,
    /// Responds to voice.
    #[value(name = "V", alias = "v")]
    V,
    /// Responds to pain.
    #[value(name = "P", alias = "p")]
    P,
    /// Unresponsive.
    #[value(name = "U", alias = "u")]
    U,
}

/// `pingan score news2` flags.
#[derive(Debug, Clone, Default, Args)]
pub struct News2Args {
    /// Respiration rate, breaths per minute.
    #[arg(long, value_name = "N")]
    pub rr: Option<f32>,
    /// SpO2, percent.
    #[arg(long, value_name = "N")]
    pub spo2: Option<f32>,
    /// SpO2 scale: 1, or 2 for hypercapnic respiratory failure (target 88–92 %).
    #[arg(long, value_name = "1|2", default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub scale: u8,
    /// Breathing air or on supplemental oxygen.
    #[arg(long, value_enum)]
    pub o2: Option<O2Arg>,
    /// Systolic blood pressure, mmHg.
    #[arg(long, value_name = "N")]
    pub sbp: Option<f32>,
    /// Pulse, beats per minute.
    #[arg(long, value_name = "N")]
    pub hr: Option<f32>,
    /// Temperature, °C.
    #[arg(long, value_name = "N")]
    pub temp: Option<f32>,
    /// Consciousness: A (alert), C (new confusion), V (voice), P (pain), U (unresponsive).
    #[arg(long, value_enum)]
    pub acvpu: Option<AcvpuArg>,
}

impl News2Args {
    /// The observations these flags describe.
    pub fn observations(&self) -> Observations {
        Observations {
            respiration_rate: self.rr,
            spo2: self.spo2,
            scale: if self.scale == 2 {
                SpO2Scale::Two
            } else {
                SpO2Scale::One
            },
            oxygen: self.o2.map(|o| match o {
                O2Arg::Air => Oxygen::Air,
                O2Arg::Oxygen => Oxygen::Oxygen,
            }),
            systolic_bp: self.sbp,
            pulse: self.hr,
            consciousness: self.acvpu.map(|a| match a {
                AcvpuArg::A => Acvpu::Alert,
                AcvpuArg::C => Acvpu::Confusion,
                AcvpuArg::V => Acvpu::Voice,
                AcvpuArg::P => Acvpu::Pain,
                AcvpuArg::U => Acvpu::Unresponsive,
            }),
            temperature: self.temp,
        }
    }

    /// Validates and scores.
    pub fn evaluate(&self) -> Result<Score, OutOfRange> {
        let o = self.observations();
        news2::validate(&o)?;
        Ok(news2::score(&o))
    }
}

/// Runs `pingan score …`: prints the JSON result; exit 2 on implausible input.
pub fn run(args: ScoreArgs) -> ExitCode {
    match args.command {
        ScoreCommand::News2(a) => match a.evaluate() {
            Ok(score) => match serde_json::to_string(&score) {
                Ok(json) => {
                    println!("{json}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: cannot encode the score: {e}");
                    ExitCode::FAILURE
                }
            },
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        cmd: Top,
    }

    #[derive(Debug, Subcommand)]
    enum Top {
        Score(ScoreArgs),
    }

    fn parse(args: &[&str]) -> Result<News2Args, clap::Error> {
        let mut argv = vec!["pingan", "score", "news2"];
        argv.extend_from_slice(args);
        let Top::Score(ScoreArgs {
            command: ScoreCommand::News2(a),
        }) = Cli::try_parse_from(argv)?.cmd;
        Ok(a)
    }

    #[test]
    fn full_flag_set_scores_like_the_chart() {
        let a = parse(&[
            "--rr", "22", "--spo2", "95", "--o2", "air", "--sbp", "100", "--hr", "95", "--temp",
            "38.5", "--acvpu", "A",
        ])
        .unwrap();
        let v = serde_json::to_value(a.evaluate().unwrap()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "score": 7, "partial": false, "missing": [],
                "points": {"respiration_rate": 2, "spo2": 1, "air_or_oxygen": 0, "systolic_bp": 2,
                           "pulse": 1, "consciousness": 0, "temperature": 1},
                "response": "emergency"
            })
        );
    }

    #[test]
    fn unset_flags_are_missing() {
        let a = parse(&["--hr", "135"]).unwrap();
        let v = serde_json::to_value(a.evaluate().unwrap()).unwrap();
        assert_eq!(v["score"], 3);
        assert_eq!(v["partial"], true);
        assert_eq!(v["response"], "ward");
        assert_eq!(v["missing"].as_array().unwrap().len(), 6);
    }

    #[test]
    fn scale_3_and_unknown_acvpu_are_usage_errors_with_exit_2() {
        for bad in [
            &["--scale", "3"][..],
            &["--acvpu", "X"],
            &["--o2", "helium"],
            &["--rr", "many"],
        ] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn implausible_spo2_is_rejected_with_a_clear_message() {
        let a = parse(&["--spo2", "140"]).unwrap();
        let err = a.evaluate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "spo2 = 140 is outside the plausible range 40–100"
        );
        assert_eq!(
            run(ScoreArgs {
                command: ScoreCommand::News2(a)
            }),
            ExitCode::from(2)
        );
    }

    #[test]
    fn lowercase_acvpu_is_accepted() {
        let a = parse(&["--acvpu", "v"]).unwrap();
        assert_eq!(a.acvpu, Some(AcvpuArg::V));
    }
}
