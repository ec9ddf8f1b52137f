//! A call-depth limit that is the same on every machine.
//!
//! wasmtime stops deep recursion by the bytes of native stack the compiled code uses, and those
//! differ between CPUs (an x86-64 frame is not an aarch64 frame) and between cranelift versions:
//! a model that recurses to just below the limit on one validator would trap on another. So the
//! node instruments the engine blob before compiling it: every function counts its frame into a
//! global on entry and out again when it returns, and traps once the frames live together hold
//! more than [`STACK_SLOTS`]. A frame's size is counted in Wasm *slots* (its parameters, locals
//! and deepest operand stack, plus [`FRAME_SLOTS`] for the call itself), read from the Wasm, the
//! same on every machine. The trap is `EngineError::Trapped("stack overflow")` everywhere. A
//! function that calls no other and is small ([`LEAF_SLOTS`]) is not counted: it can only be the
//! top frame.
//!
//! wasmtime's own limit ([`crate::engine::ENGINE_WASM_STACK`]) stays, far above what
//! [`STACK_SLOTS`] can reach (see [`NATIVE_BYTES_PER_SLOT`]): should a machine ever hit it first,
//! that is a failure of the node (it cannot compute the chain's result), never a result.
//!
//! The instrumentation is part of how the node runs an engine, as fuel is: a change to it changes
//! fuel counts, so it changes only with a new node release that every validator runs.

use std::vec::Vec;

use wasm_encoder::{
	reencode::{self, Reencode},
	BlockType, CodeSection, ConstExpr, ExportKind, ExportSection, GlobalSection, GlobalType,
	Instruction, ValType,
};
use wasmparser::{
	FuncValidatorAllocations, Operator, Parser, Payload, ValidPayload, Validator, WasmFeatures,
};

/// The export through which the host reads the depth counter after a trap: above
/// [`STACK_SLOTS`], the trap was the depth limit.
pub const DEPTH_EXPORT: &str = "verinfer_stack_slots";

/// Slots the engine's live frames may hold together: 64 K. tract's deepest calls on the fixture
/// corpora hold between 512 and 1,024 (every corpus digest is unchanged with a limit of 1,024;
/// every one changes with 512): a margin of 64 for what later operators (subgraphs, recurrence)
/// add.
pub const STACK_SLOTS: u32 = 1 << 16;

/// The largest frame, in slots, a function that calls no other may have and not be counted: 4 K.
/// Such a *leaf* can only ever be the top frame, so it adds at most this to the native stack of
/// the counted frames beneath; not counting them spares the engine's hottest small functions
/// (copies, arithmetic helpers, the kernels' inner loops) the count's 13 operators a call.
pub const LEAF_SLOTS: u32 = 1 << 12;

/// Slots a frame counts beyond its parameters, locals and operands: the return address, the frame
/// pointer and the instance pointer a compiled call keeps, and the callee's saved registers.
pub const FRAME_SLOTS: u32 = 4;

/// Native stack bytes a slot may take, at most, in code compiled by cranelift: an 8-byte or
/// 16-byte value, spills of temporaries included (measured by this module's tests on the worst
/// frames we could build, at most 16 on x86-64). [`crate::engine::ENGINE_WASM_STACK`] is twice
/// [`STACK_SLOTS`] and [`LEAF_SLOTS`] together times this.
pub const NATIVE_BYTES_PER_SLOT: usize = 32;

/// Why a blob cannot be instrumented.
pub type Refusal = &'static str;

/// What a function's frame counts and returns.
#[derive(Clone, Copy)]
struct Frame {
	slots: u32,
	block: BlockType,
	/// Counted: it calls other functions, or it is a leaf larger than [`LEAF_SLOTS`].
	counted: bool,
}

/// `blob` with the depth limit of `limit` slots: a new mutable `i32` global, exported as
/// [`DEPTH_EXPORT`], counts the slots of the live frames. Refuses a blob that is not valid Wasm or
/// that uses what the counting cannot follow: tail calls, exceptions, functions of several
/// results.
pub fn limit_depth(blob: &[u8], limit: u32) -> Result<Vec<u8>, Refusal> {
	let shape = Shape::read(blob)?;
	if !shape.had_globals {
		return Err("the engine blob has no global section (no shadow stack pointer)");
	}
	let mut limiter = Limiter { frames: shape.frames.into_iter(), global: shape.globals, limit };
	let mut module = wasm_encoder::Module::new();
	limiter.parse_core_module(&mut module, Parser::new(0), blob).map_err(|error| match error {
		reencode::Error::UserError(refusal) => refusal,
		_ => "the engine blob cannot be re-encoded",
	})?;
	Ok(module.finish())
}

/// What the instrumentation needs to know of a blob before rewriting it.
struct Shape {
	frames: Vec<Frame>,
	/// Globals, imported and defined: the index of the one added.
	globals: u32,
	had_globals: bool,
}

impl Shape {
	fn read(blob: &[u8]) -> Result<Shape, Refusal> {
		const INVALID: Refusal = "the engine blob is not valid Wasm";
		let mut validator = Validator::new_with_features(WasmFeatures::default());
		let mut types = Vec::new();
		let mut shape = Shape { frames: Vec::new(), globals: 0, had_globals: false };
		for payload in Parser::new(0).parse_all(blob) {
			let payload = payload.map_err(|_| INVALID)?;
			match &payload {
				Payload::TypeSection(section) => {
					for ty in section.clone().into_iter_err_on_gc_types() {
						types.push(ty.map_err(|_| INVALID)?);
					}
				},
				Payload::ImportSection(section) => {
					for import in section.clone() {
						let import = import.map_err(|_| INVALID)?;
						if matches!(import.ty, wasmparser::TypeRef::Global(_)) {
							shape.globals += 1;
						}
					}
				},
				Payload::GlobalSection(section) => {
					shape.globals += section.count();
					shape.had_globals = true;
				},
				_ => {},
			}
			let ValidPayload::Func(to_validate, body) =
				validator.payload(&payload).map_err(|_| INVALID)?
			else {
				continue;
			};
			let ty = types.get(to_validate.ty as usize).ok_or(INVALID)?;
			let block = match ty.results() {
				[] => BlockType::Empty,
				[result] => BlockType::Result(
					reencode::RoundtripReencoder.val_type(*result).map_err(|_| INVALID)?,
				),
				_ => return Err("the engine blob has a function of several results"),
			};
			let mut func = to_validate.into_validator(FuncValidatorAllocations::default());
			func.read_locals(&mut body.get_binary_reader()).map_err(|_| INVALID)?;
			let mut operands = 0;
			let mut calls = false;
			let mut reader = body.get_operators_reader().map_err(|_| INVALID)?;
			while !reader.eof() {
				let offset = reader.original_position();
				let op = reader.read().map_err(|_| INVALID)?;
				calls |= matches!(
					op,
					Operator::Call { .. }
						| Operator::CallIndirect { .. }
						| Operator::CallRef { .. }
				);
				func.op(offset, &op).map_err(|_| INVALID)?;
				operands = operands.max(func.operand_stack_height());
			}
			let slots = FRAME_SLOTS.saturating_add(func.len_locals()).saturating_add(operands);
			shape.frames.push(Frame { slots, block, counted: calls || slots > LEAF_SLOTS });
		}
		Ok(shape)
	}
}

/// Rewrites the module: the counter global, its export, and each function body wrapped in a
/// block between the counting in and out.
struct Limiter {
	frames: std::vec::IntoIter<Frame>,
	global: u32,
	limit: u32,
}

fn refuse(refusal: Refusal) -> reencode::Error<Refusal> {
	reencode::Error::UserError(refusal)
}

impl Reencode for Limiter {
	type Error = Refusal;

	fn parse_global_section(
		&mut self,
		globals: &mut GlobalSection,
		section: wasmparser::GlobalSectionReader<'_>,
	) -> Result<(), reencode::Error<Refusal>> {
		reencode::utils::parse_global_section(self, globals, section)?;
		let counter = GlobalType { val_type: ValType::I32, mutable: true, shared: false };
		globals.global(counter, &ConstExpr::i32_const(0));
		Ok(())
	}

	fn parse_export_section(
		&mut self,
		exports: &mut ExportSection,
		section: wasmparser::ExportSectionReader<'_>,
	) -> Result<(), reencode::Error<Refusal>> {
		reencode::utils::parse_export_section(self, exports, section)?;
		exports.export(DEPTH_EXPORT, ExportKind::Global, self.global);
		Ok(())
	}

	fn parse_function_body(
		&mut self,
		code: &mut CodeSection,
		body: wasmparser::FunctionBody<'_>,
	) -> Result<(), reencode::Error<Refusal>> {
		let Some(frame) = self.frames.next() else {
			return Err(refuse("the engine blob's code does not match its functions"));
		};
		if !frame.counted {
			return reencode::utils::parse_function_body(self, code, body);
		}
		// Two's complement: the counter is compared unsigned, and a frame is far below 2^31.
		let slots = frame.slots as i32;
		let mut function = self.new_function_with_parsed_locals(&body)?;
		let counter = self.global;
		for instruction in [
			Instruction::GlobalGet(counter),
			Instruction::I32Const(slots),
			Instruction::I32Add,
			Instruction::GlobalSet(counter),
			Instruction::GlobalGet(counter),
			Instruction::I32Const(self.limit as i32),
			Instruction::I32GtU,
			Instruction::If(BlockType::Empty),
			Instruction::Unreachable,
			Instruction::End,
			Instruction::Block(frame.block),
		] {
			function.instruction(&instruction);
		}
		// Blocks open inside the body; `return` becomes a branch out of the wrapping block, so
		// that every way out counts the frame out.
		let mut open = 0u32;
		let mut reader = body.get_operators_reader()?;
		while !reader.eof() {
			let op = reader.read()?;
			match op {
				Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => open += 1,
				Operator::End if open > 0 => open -= 1,
				Operator::End => {
					for instruction in [
						Instruction::End,
						Instruction::GlobalGet(counter),
						Instruction::I32Const(slots),
						Instruction::I32Sub,
						Instruction::GlobalSet(counter),
						Instruction::End,
					] {
						function.instruction(&instruction);
					}
					continue;
				},
				Operator::Return => {
					function.instruction(&Instruction::Br(open));
					continue;
				},
				Operator::ReturnCall { .. }
				| Operator::ReturnCallIndirect { .. }
				| Operator::ReturnCallRef { .. } => return Err(refuse("the engine blob uses tail calls")),
				Operator::Try { .. } | Operator::TryTable { .. } | Operator::Delegate { .. } => {
					return Err(refuse("the engine blob uses exceptions"))
				},
				_ => {},
			}
			function.instruction(&self.instruction(op)?);
		}
		code.function(&function);
		Ok(())
	}
}

/// A module exporting `rec(n: i32) -> i32`, which recurses `n` deep and gives `n`, with frames of
/// `v128_locals` vector locals and `operands` 64-bit values on the operand stack, all loaded from
/// memory (so that the code generator cannot recompute them) and live across the recursive call:
/// frames of `FRAME_SLOTS + 3 + v128_locals + operands` slots (the parameter, and the two operands
/// a call's argument takes beside them). The base case leaves by `return`. For the tests and the
/// determinism digests: the depth at which it traps, and the fuel, must be the same on every
/// machine.
pub fn recursion_module(v128_locals: u32, operands: u32) -> Vec<u8> {
	use wasm_encoder::{
		ExportSection, Function, FunctionSection, GlobalSection, MemArg, MemorySection, MemoryType,
		Module, TypeSection,
	};
	let mut types = TypeSection::new();
	types.ty().function([ValType::I32], [ValType::I32]);
	let mut functions = FunctionSection::new();
	functions.function(0);
	let mut memories = MemorySection::new();
	memories.memory(MemoryType {
		minimum: 1,
		maximum: Some(1),
		memory64: false,
		shared: false,
		page_size_log2: None,
	});
	// Where an engine blob keeps its shadow stack pointer.
	let mut globals = GlobalSection::new();
	globals.global(
		GlobalType { val_type: ValType::I32, mutable: true, shared: false },
		&ConstExpr::i32_const(0),
	);
	let mut exports = ExportSection::new();
	exports.export("rec", ExportKind::Func, 0);

	// Loads from the first 32 KiB, at addresses that depend on `n` and on the value's index.
	let at = |offset: u64, align: u32| MemArg { offset, align, memory_index: 0 };
	let mut body = Function::new([(v128_locals, ValType::V128)]);
	let n = 0;
	for local in 0..v128_locals {
		body.instructions()
			.local_get(n)
			.i32_const(0x7ff0)
			.i32_and()
			.v128_load(at(u64::from(local % 2048) * 16, 4))
			.local_set(1 + local);
	}
	for operand in 0..operands {
		body.instructions()
			.local_get(n)
			.i32_const(0x7ff8)
			.i32_and()
			.i64_load(at(u64::from(operand % 4096) * 8, 3));
	}
	body.instructions()
		.local_get(n)
		.i32_eqz()
		.if_(BlockType::Empty)
		.i32_const(0)
		.return_()
		.end()
		.local_get(n)
		.i32_const(1)
		.i32_sub()
		.call(0)
		.i32_const(1)
		.i32_add();
	// The memory is zeros: what the loads add is nothing, but the code must keep them.
	for _ in 0..operands {
		body.instructions().i64_extend_i32_u().i64_add().i32_wrap_i64();
	}
	for local in 0..v128_locals {
		body.instructions().local_get(1 + local).i32x4_extract_lane(0).i32_add();
	}
	body.instructions().end();
	let mut code = CodeSection::new();
	code.function(&body);

	let mut module = Module::new();
	module
		.section(&types)
		.section(&functions)
		.section(&memories)
		.section(&globals)
		.section(&exports)
		.section(&code);
	module.finish()
}

/// How deep [`recursion_module`] recursed before the depth limit of `limit` slots stopped it,
/// compiled with `config`, and the fuel the call that trapped used: the same on every machine
/// (the determinism digests compare them). `Err` when something else stopped it, wasmtime's native
/// stack limit above all.
pub fn deepest_recursion(
	config: &wasmtime::Config,
	v128_locals: u32,
	operands: u32,
	limit: u32,
) -> Result<(u32, u64), String> {
	use wasmtime::{Engine, Instance, Module, Store, Trap};
	const FUEL: u64 = 1 << 40;
	let module = limit_depth(&recursion_module(v128_locals, operands), limit)?;
	let engine = Engine::new(config).map_err(|e| e.to_string())?;
	let module = Module::new(&engine, module).map_err(|e| e.to_string())?;
	let slots = FRAME_SLOTS + 3 + v128_locals + operands;
	// Calls of `n` fit (n + 1 frames); one more frame than fits must trap.
	let call = |n: u32| -> Result<(Result<i32, Trap>, u64), String> {
		let mut store = Store::new(&engine, ());
		store.set_fuel(FUEL).map_err(|e| e.to_string())?;
		let instance = Instance::new(&mut store, &module, &[]).map_err(|e| e.to_string())?;
		let rec =
			instance.get_typed_func::<i32, i32>(&mut store, "rec").map_err(|e| e.to_string())?;
		let result = match rec.call(&mut store, n as i32) {
			Ok(result) => Ok(result),
			Err(error) => Err(*error.downcast_ref::<Trap>().ok_or(error.to_string())?),
		};
		let counter = instance
			.get_global(&mut store, DEPTH_EXPORT)
			.and_then(|global| global.get(&mut store).i32())
			.ok_or("no depth counter")?;
		let fine = match result {
			Ok(_) => counter == 0,
			Err(Trap::UnreachableCodeReached) => counter as u32 > limit,
			Err(trap) => return Err(format!("rec({n}) trapped: {trap:?}")),
		};
		if !fine {
			return Err(format!("rec({n}) left the depth counter at {counter}"));
		}
		Ok((result, FUEL - store.get_fuel().map_err(|e| e.to_string())?))
	};
	let deepest = (limit / slots).saturating_sub(1);
	let (fits, _) = call(deepest)?;
	if fits != Ok(deepest as i32) {
		return Err(format!("rec({deepest}) gave {fits:?}"));
	}
	match call(deepest + 1)? {
		(Err(_), fuel) => Ok((deepest, fuel)),
		(Ok(_), _) => Err(format!("rec({}) did not trap", deepest + 1)),
	}
}

#[cfg(test)]
mod tests {
	use wasmtime::OptLevel;

	use super::*;
	use crate::engine::deterministic_config;

	/// The frame shapes of the tests: a minimal one, vector locals, deep operand stacks, both.
	const SHAPES: [(u32, u32); 4] = [(0, 0), (64, 0), (0, 64), (200, 200)];

	#[test]
	fn the_depth_limit_stops_a_recursion_at_the_same_call_whatever_the_code_generator() {
		for (v128_locals, operands) in SHAPES {
			let mut unoptimised = deterministic_config();
			unoptimised.cranelift_opt_level(OptLevel::None);
			let limit = 100_000;
			let chain = deepest_recursion(&deterministic_config(), v128_locals, operands, limit);
			let other = deepest_recursion(&unoptimised, v128_locals, operands, limit);
			assert!(chain.is_ok(), "{v128_locals} vector locals, {operands} operands: {chain:?}");
			assert_eq!(chain, other);
		}
	}

	#[test]
	fn the_depth_limit_comes_before_the_native_stack_of_the_worst_frames() {
		// Half the engine's native stack: STACK_SLOTS slots at NATIVE_BYTES_PER_SLOT. Run on a
		// thread with room for it, as the host runs the engine.
		let native = STACK_SLOTS as usize * NATIVE_BYTES_PER_SLOT;
		std::thread::Builder::new()
			.stack_size(native + (8 << 20))
			.spawn(move || {
				for (v128_locals, operands) in SHAPES {
					let mut config = deterministic_config();
					config.max_wasm_stack(native);
					let reached = deepest_recursion(&config, v128_locals, operands, STACK_SLOTS);
					assert!(
						reached.is_ok(),
						"{v128_locals} vector locals, {operands} operands: {reached:?}"
					);
				}
			})
			.expect("spawn")
			.join()
			.expect("the recursions ran");
	}

	#[test]
	fn a_native_stack_overflow_is_not_mistaken_for_the_depth_limit() {
		// A native stack far too small for the limit: wasmtime's own trap, which the host turns
		// into a failure of the node, not a result.
		let mut config = deterministic_config();
		config.max_wasm_stack(256 << 10);
		let reached = deepest_recursion(&config, 64, 0, STACK_SLOTS);
		assert!(reached.as_ref().is_err_and(|e| e.contains("StackOverflow")), "{reached:?}");
	}

	#[test]
	fn returns_and_branches_out_of_a_function_count_its_frame_out() {
		let module = limit_depth(&recursion_module(2, 3), 1 << 20).expect("instrumented");
		let engine = wasmtime::Engine::new(&deterministic_config()).expect("engine");
		let module = wasmtime::Module::new(&engine, module).expect("compiled");
		let mut store = wasmtime::Store::new(&engine, ());
		store.set_fuel(1 << 30).expect("fuel");
		let instance = wasmtime::Instance::new(&mut store, &module, &[]).expect("instance");
		let rec = instance.get_typed_func::<i32, i32>(&mut store, "rec").expect("rec");
		for n in [0, 1, 7, 100] {
			assert_eq!(rec.call(&mut store, n).expect("ran"), n);
			let counter = instance.get_global(&mut store, DEPTH_EXPORT).expect("counter");
			assert_eq!(counter.get(&mut store).i32(), Some(0), "after rec({n})");
		}
	}

	#[test]
	fn a_small_function_that_calls_no_other_is_not_counted() {
		use wasm_encoder::{ExportSection, Function, FunctionSection, Module, TypeSection};
		let mut types = TypeSection::new();
		types.ty().function([ValType::I32], [ValType::I32]);
		let mut functions = FunctionSection::new();
		functions.function(0);
		let mut globals = GlobalSection::new();
		let stack_pointer = GlobalType { val_type: ValType::I32, mutable: true, shared: false };
		globals.global(stack_pointer, &ConstExpr::i32_const(0));
		let mut exports = ExportSection::new();
		exports.export("leaf", ExportKind::Func, 0);
		let mut leaf = Function::new([]);
		leaf.instructions().local_get(0).i32_const(1).i32_add().end();
		let mut code = CodeSection::new();
		code.function(&leaf);
		let mut module = Module::new();
		module
			.section(&types)
			.section(&functions)
			.section(&globals)
			.section(&exports)
			.section(&code);
		let original = module.finish();

		let fuel = |blob: &[u8]| {
			let engine = wasmtime::Engine::new(&deterministic_config()).expect("engine");
			let module = wasmtime::Module::new(&engine, blob).expect("compiled");
			let mut store = wasmtime::Store::new(&engine, ());
			store.set_fuel(1_000).expect("fuel");
			let instance = wasmtime::Instance::new(&mut store, &module, &[]).expect("instance");
			let leaf = instance.get_typed_func::<i32, i32>(&mut store, "leaf").expect("leaf");
			assert_eq!(leaf.call(&mut store, 41).expect("ran"), 42);
			1_000 - store.get_fuel().expect("fuel left")
		};
		let limited = limit_depth(&original, STACK_SLOTS).expect("instrumented");
		assert_eq!(fuel(&limited), fuel(&original));
	}

	#[test]
	fn blobs_the_counting_cannot_follow_are_refused() {
		assert!(limit_depth(b"not wasm", STACK_SLOTS).is_err());
		// No global section: not an engine blob (it has a shadow stack pointer).
		let mut module = wasm_encoder::Module::new();
		module.section(&wasm_encoder::TypeSection::new());
		assert!(limit_depth(&module.finish(), STACK_SLOTS).is_err());
	}
}
