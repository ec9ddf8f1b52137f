//! The engine's results do not depend on the machine code wasmtime generates for it: the corpus
//! digests are identical when the blob is compiled for this CPU's full feature set (AVX-512, FMA
//! here), for a baseline x86-64 without AVX, FMA or BMI, and without Cranelift's optimiser; so
//! does where the deterministic depth limit stops a recursion, and the fuel it took. The
//! cross-architecture version (aarch64, a CPU without AVX under qemu) is scripts/determinism.sh.

use verinfer_determinism::{corpus_digests, depth_digests};
use verinfer_executor::{
	engine::{deterministic_config, Engine},
	ENGINE_BLOB,
};
use wasmtime::OptLevel;

/// x86-64 features a baseline (Nehalem-class) CPU lacks.
const NOT_ON_BASELINE_X86: &[&str] = &[
	"has_avx",
	"has_avx2",
	"has_fma",
	"has_bmi1",
	"has_bmi2",
	"has_lzcnt",
	"has_avx512f",
	"has_avx512vl",
	"has_avx512dq",
	"has_avx512bitalg",
	"has_avx512vbmi",
];

#[test]
fn corpus_digests_are_identical_whatever_code_wasmtime_generates() {
	let blob = ENGINE_BLOB.unwrap();
	let fixtures = verinfer_fixtures::dir();
	let native = corpus_digests(&Engine::built_in().unwrap(), &fixtures, &[]).unwrap();
	assert!(native.len() >= 10, "{native:?}");
	let native_depths = depth_digests(&deterministic_config()).unwrap();

	let mut configs = vec![("no optimiser", {
		let mut config = deterministic_config();
		config.cranelift_opt_level(OptLevel::None);
		config
	})];
	if cfg!(target_arch = "x86_64") {
		let mut config = deterministic_config();
		for flag in NOT_ON_BASELINE_X86 {
			// SAFETY: turning CPU features off only restricts the instructions Cranelift may
			// use; the code stays valid on this (more capable) CPU.
			unsafe { config.cranelift_flag_set(flag, "false") };
		}
		configs.push(("baseline x86-64", config));
	}
	let native_code = text_section(&Engine::built_in().unwrap().compiled_code().unwrap());
	for (name, config) in configs {
		let engine = Engine::with_config(&config, blob).unwrap();
		let code = text_section(&engine.compiled_code().unwrap());
		assert_ne!(code, native_code, "{name}: the same machine code");
		assert_eq!(corpus_digests(&engine, &fixtures, &[]).unwrap(), native, "{name}");
		assert_eq!(depth_digests(&config).unwrap(), native_depths, "{name}: the depth limit");
	}
}

/// The `.text` section (the machine code) of wasmtime's serialised module, an ELF64 file.
fn text_section(elf: &[u8]) -> Vec<u8> {
	let u16_at = |at: usize| u16::from_le_bytes(elf[at..at + 2].try_into().unwrap()) as usize;
	let u32_at = |at: usize| u32::from_le_bytes(elf[at..at + 4].try_into().unwrap()) as usize;
	let u64_at = |at: usize| u64::from_le_bytes(elf[at..at + 8].try_into().unwrap()) as usize;
	assert_eq!(&elf[..4], b"\x7fELF");
	let (table, entry, count, names) = (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
	let section = |index: usize| {
		let header = table + index * entry;
		(u32_at(header), u64_at(header + 0x18), u64_at(header + 0x20))
	};
	let (_, names_offset, _) = section(names);
	(0..count)
		.map(section)
		.find(|&(name, ..)| elf[names_offset + name..].starts_with(b".text\0"))
		.map(|(_, offset, size)| elf[offset..offset + size].to_vec())
		.expect("a .text section")
}
