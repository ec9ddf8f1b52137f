#!/usr/bin/env node
// A dApp as dApps are written: @polkadot/api, with no type definitions of our own. Every type it
// meets (models, analyses, tensors, events, results, the runtime API) comes from the chain's
// metadata.
//
// It finds a model by name, builds an input tensor from the model's analysis, dry-runs the call
// through the runtime API, signs and submits `inference.infer`, waits until the block is final,
// decodes `InferenceCompleted`, checks that the output hash is the SHA-256 of the outputs' SCALE
// encoding and that storage holds the same result, and prints it. With `--out DIR` it writes the
// input and the outputs as .npy files, byte for byte as `verinfer model run` writes them.
//
//   node infer.mjs [--url ws://127.0.0.1:9944] [--model demo-mlp] [--suri //Bob] [--out DIR]

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady, sha256AsU8a } from '@polkadot/util-crypto';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'ws://127.0.0.1:9944' },
    model: { type: 'string', default: 'demo-mlp' },
    suri: { type: 'string', default: '//Bob' },
    out: { type: 'string' },
  },
});

/** Stops with one line on stderr, as the `verinfer` CLI does. */
function fail(message) {
  throw Object.assign(new Error(message), { oneLine: true });
}

// ---- tensors -------------------------------------------------------------------------------------

/** The .npy type string of each dtype (little-endian; `|` where byte order does not apply). */
const NPY_DESCR = {
  F32: '<f4', F64: '<f8', F16: '<f2', I8: '|i1', I16: '<i2', I32: '<i4', I64: '<i8',
  U8: '|u1', U16: '<u2', U32: '<u4', U64: '<u8', Bool: '|b1',
};

/** A tensor's bytes as a .npy file: format 1.0, C order, the data 64-byte aligned. */
function npy({ dtype, shape, data }) {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${NPY_DESCR[dtype]}', 'fortran_order': False, 'shape': ${dims}, }`;
  const unpadded = 6 + 2 + 2 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.length);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(data, 10 + header.length);
  return out;
}

/** A decoded `Tensor` as plain values. */
function plain(tensor) {
  return {
    dtype: tensor.dtype.type,
    shape: tensor.shape.map((dim) => dim.toNumber()),
    data: tensor.data.toU8a(true),
  };
}

/** The elements of an f32 tensor, for printing. */
function floats({ dtype, data }) {
  if (dtype !== 'F32') return `(${data.length} bytes of ${dtype})`;
  return Array.from(new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length)));
}

/** An f32 input of the spec's shape, filled with a fixed pattern in [-1.25, 1.25]. */
function buildInput(spec) {
  const dtype = spec.dtype.type;
  if (dtype !== 'F32') fail(`input ${spec.name.toUtf8()} is ${dtype}: this dApp builds f32 inputs`);
  const shape = spec.shape.map((dim) => dim.toNumber());
  const count = shape.reduce((a, b) => a * b, 1);
  const values = Float32Array.from({ length: count }, (_, i) => (((i * 7) % 11) - 5) / 4);
  return { dtype, shape, data: new Uint8Array(values.buffer) };
}

// ---- the chain -----------------------------------------------------------------------------------

/** The id and record of the model named `name`, read from `Models.Models`. */
async function findModel(api, name) {
  const entries = await api.query.models.models.entries();
  const found = entries
    .map(([key, model]) => [key.args[0], model.unwrap()])
    .filter(([, model]) => model.metadata.name.toUtf8() === name && model.status.isActive);
  if (found.length === 0) fail(`no active model named ${name} on this chain`);
  return found[0];
}

/** Signs and submits `tx`; resolves with the extrinsic's events once its block is final. */
function submitFinal(tx, signer) {
  return new Promise((resolve, reject) => {
    let blockHash;
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (status.isInBlock) blockHash = status.asInBlock;
      if (status.isDropped || status.isInvalid || status.isUsurped) {
        reject(new Error(`the transaction was ${status.type.toLowerCase()}`));
      }
      if (!status.isFinalized) return;
      if (dispatchError) {
        const { section, name } = dispatchError.isModule
          ? dispatchError.registry.findMetaError(dispatchError.asModule)
          : { section: 'dispatch', name: dispatchError.toString() };
        reject(Object.assign(new Error(`the chain refused it: ${section}.${name}`), { oneLine: true }));
        return;
      }
      resolve({ blockHash: blockHash ?? status.asFinalized, events });
    }).catch(reject);
  });
}

async function main() {
  await cryptoWaitReady();
  const provider = new WsProvider(args.url, false);
  await new Promise((resolve, reject) => {
    provider.on('connected', resolve);
    provider.on('error', () => reject(Object.assign(new Error(`cannot reach a node at ${args.url}`), { oneLine: true })));
    provider.connect().catch(reject);
  });
  // Whatever polkadot.js warns about while it builds its types from the metadata (a type it cannot
  // resolve, an unknown transaction extension) fails the run: the metadata must be enough. Only the
  // note that our own JSON-RPC methods have no built-in decoration is expected.
  const warnings = [];
  const warn = console.warn;
  console.warn = (...parts) => warnings.push(parts.join(' '));
  const api = await ApiPromise.create({ provider });
  console.warn = warn;
  const unexpected = warnings.filter((w) => !w.includes('RPC methods not decorated'));
  if (unexpected.length > 0) fail(`polkadot.js needed more than the metadata: ${unexpected.join('; ')}`);
  const signer = new Keyring({ type: 'sr25519', ss58Format: api.registry.chainSS58 }).addFromUri(args.suri);

  const [id, model] = await findModel(api, args.model);
  const analysis = (await api.query.models.analyses(id)).unwrap();
  const inputs = analysis.inputs.map(buildInput);
  console.log(`model       ${args.model} ${id.toHex()}`);
  console.log(`fee         ${model.fee.toString()}`);
  inputs.forEach((input, i) => console.log(`input ${i}     ${input.dtype} [${input.shape}] ${JSON.stringify(floats(input))}`));

  // `data` goes as hex: polkadot.js reads a Uint8Array given for `Bytes` as already SCALE-encoded.
  const params = inputs.map(({ dtype, shape, data }) => ({ dtype, shape, data: u8aToHex(data) }));

  // What the call would give, through the runtime API described in the metadata.
  const dry = await api.call.inferenceApi.dryRun(id, params);
  if (dry.isErr) fail(`dry run refused: ${dry.asErr.toString()}`);
  const predicted = dry.asOk.outputHash.toHex();

  const { blockHash, events } = await submitFinal(
    api.tx.inference.infer(id, params, model.fee), signer);
  const completed = events.map(({ event }) => event).find((event) => api.events.inference.InferenceCompleted.is(event));
  if (!completed) fail('the block holds no InferenceCompleted for the call');
  const { requestId, fee, outputHash, outputs } = completed.data;
  if (outputs.isNone) fail('the outputs are too large for the event; read them from storage');

  // The hash the chain recorded is the SHA-256 of the outputs' SCALE encoding, as decoded here.
  const hash = u8aToHex(sha256AsU8a(outputs.unwrap().toU8a()));
  if (hash !== outputHash.toHex()) fail(`outputs hash to ${hash}, the event says ${outputHash.toHex()}`);
  if (hash !== predicted) fail(`the dry run predicted ${predicted}, the block has ${hash}`);
  // The result in storage, at the call's block, is the same.
  const stored = (await (await api.at(blockHash)).query.inference.results(requestId)).unwrap();
  if (stored.outputs.toHex() !== outputs.unwrap().toHex()) fail('storage and the event disagree');
  if (!stored.caller.eq(signer.address)) fail(`the stored caller is ${stored.caller}`);

  const results = outputs.unwrap().map(plain);
  console.log(`request id  ${requestId.toString()}`);
  console.log(`block       ${blockHash.toHex()} (final)`);
  console.log(`fee paid    ${fee.toString()}`);
  results.forEach((output, i) => console.log(`output ${i}    ${output.dtype} [${output.shape}] ${JSON.stringify(floats(output))}`));
  console.log(`outputs sha256 ${hash}`);

  if (args.out) {
    mkdirSync(args.out, { recursive: true });
    inputs.forEach((input, i) => writeFileSync(join(args.out, `input${i}.npy`), npy(input)));
    results.forEach((output, i) => writeFileSync(join(args.out, `output${i}.npy`), npy(output)));
  }
  await api.disconnect();
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`error: ${error.oneLine ? error.message : error.stack}`);
    process.exit(1);
  },
);
