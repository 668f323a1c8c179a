//! Writes a seeded synthetic directory set.
//!
//!   cargo run --release -p twp-directory --example generate -- \
//!       --people 500000 --seed 42 --out /tmp/twp-directories [--ldif]
//!
//! Files: `people.csv` (`;`, UTF-8 with BOM), `crm.csv` (`,`,
//! Windows-1252: the duplicates with the same e-mail), and with `--ldif`
//! `people.ldif` and `crm.ldif` for slapd.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::time::Instant;

use twp_directory::generate::{Config, CsvEncoding, CsvSink, LdifSink, RecordSink, write_all};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = Config::default();
    let mut out = PathBuf::from("/tmp/twp-directories");
    let mut ldif = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--people" => config.people = args.next().ok_or("--people N")?.parse()?,
            "--seed" => config.seed = args.next().ok_or("--seed S")?.parse()?,
            "--out" => out = args.next().ok_or("--out DIR")?.into(),
            "--ldif" => ldif = true,
            other => return Err(format!("unknown argument {other}; see the source header").into()),
        }
    }
    std::fs::create_dir_all(&out)?;
    let started = Instant::now();
    let file = |name: &str| -> std::io::Result<BufWriter<File>> {
        Ok(BufWriter::with_capacity(
            1 << 20,
            File::create(out.join(name))?,
        ))
    };
    let mut people = CsvSink::new(file("people.csv")?, b';', CsvEncoding::Utf8Bom)?;
    let mut crm = CsvSink::new(file("crm.csv")?, b',', CsvEncoding::Windows1252)?;
    let counts = write_all(config, &mut [&mut people, &mut crm])?;
    println!(
        "people.csv: {} rows, crm.csv: {} rows (seed {}) in {:.2?}",
        counts[0],
        counts[1],
        config.seed,
        started.elapsed()
    );
    if ldif {
        let mut a = LdifSink::new(file("people.ldif")?, "ou=people,dc=example,dc=com");
        let mut b = LdifSink::new(file("crm.ldif")?, "ou=crm,dc=example,dc=com");
        let sinks: &mut [&mut dyn RecordSink] = &mut [&mut a, &mut b];
        write_all(config, sinks)?;
        println!("people.ldif, crm.ldif written");
    }
    println!("in {}", out.display());
    Ok(())
}
