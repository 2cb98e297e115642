/**
 * Decoder bench: how many ADD requests (the agent's hot path) and ADD answers (the plugin's) decode per
 * second, and the cost of one decode. Prints figures, asserts nothing.
 *
 * Run: `npm run bench` (node --conditions=@hostnic/source bench/run.ts).
 */
import { decodeAddRequest, decodeAddResponse } from '@hostnic/protocol';
import { v1Samples } from '@hostnic/protocol/testing';

const ROUNDS = 200_000;

function bench(label: string, text: string, decode: (value: unknown) => unknown): void {
  // Parsing is part of the cost the agent pays per request, so each round parses too.
  for (let i = 0; i < 10_000; i++) decode(JSON.parse(text));
  const started = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) decode(JSON.parse(text));
  const ns = Number(process.hrtime.bigint() - started);
  const perSecond = Math.round(ROUNDS / (ns / 1e9));
  console.log(`${label.padEnd(28)} ${perSecond.toLocaleString('en').padStart(12)} /s  ${(ns / ROUNDS / 1000).toFixed(2)} µs each (JSON.parse included)`);
}

const add = JSON.stringify({ ...v1Samples.addRequest, attachment: { ...v1Samples.attachment, kubernetesPod: true } });
bench('ADD request (agent)', add, (v) => decodeAddRequest(v));
bench('ADD request, v1 (agent)', JSON.stringify(v1Samples.addRequest), (v) => decodeAddRequest(v, 1));
bench('ADD answer (plugin)', JSON.stringify(v1Samples.addResponse), decodeAddResponse);
bench('JSON.parse alone', add, (v) => v);
