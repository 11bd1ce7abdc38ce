// Test-only reference encoder for tests/tokenizer_ref.sh (r1 itself never needs Node).
//
//   node reference.js encode TOKENIZER_JSON CORPUS OUTDIR
//     Encodes every case of CORPUS (llama.cpp's .inp layout: each case followed by
//     "\n__ggml_vocab_test__\n") with @lenml/tokenizers (a port of transformers.js)
//     loaded from TOKENIZER_JSON (+ tokenizer_config.json beside it), no BOS, special
//     tokens matched. Writes OUTDIR/NNN.txt (the case), NNN.ids (the ids on one line)
//     and NNN.expect (what decoding the ids must give back: the case, NFC-normalized
//     when the tokenizer normalizes).
//
//   node reference.js make-r1 V3_MODELS_DIR OUTDIR
//     Writes OUTDIR/tokenizer.json (+ config): DeepSeek-V3's tokenizer with R1's two
//     changes, <think> and </think> in place of placeholders 798 and 799 (ids 128798,
//     128799, "special": false as in DeepSeek-R1's tokenizer.json).
"use strict";
const fs = require("fs");
const path = require("path");
const { TokenizerLoader } = require("@lenml/tokenizers");

const SEPARATOR = "\n__ggml_vocab_test__\n";

function readJSON(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

function splitCases(text) {
  const parts = text.split(SEPARATOR);
  if (parts.length && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

function encode(tokenizerFile, corpusFile, outDir) {
  const configFile = path.join(path.dirname(tokenizerFile), "tokenizer_config.json");
  const json = readJSON(tokenizerFile);
  const tokenizer = TokenizerLoader.fromPreTrained({
    tokenizerJSON: json,
    tokenizerConfig: fs.existsSync(configFile) ? readJSON(configFile) : {},
  });
  const normalizers = JSON.stringify(json.normalizer || null);
  const nfc = normalizers.includes('"NFC"');
  fs.mkdirSync(outDir, { recursive: true });
  const cases = splitCases(fs.readFileSync(corpusFile, "utf8"));
  cases.forEach((text, i) => {
    const name = path.join(outDir, String(i + 1).padStart(3, "0"));
    const ids = tokenizer.encode(text, { add_special_tokens: false });
    fs.writeFileSync(name + ".txt", text);
    fs.writeFileSync(name + ".ids", ids.join(" ") + "\n");
    fs.writeFileSync(name + ".expect", nfc ? text.normalize("NFC") : text);
  });
  console.log(cases.length);
}

function makeR1(v3Dir, outDir) {
  const json = readJSON(path.join(v3Dir, "tokenizer.json"));
  const renames = { 128798: "<think>", 128799: "</think>" };
  for (const token of json.added_tokens) {
    if (token.id in renames) {
      token.content = renames[token.id];
      token.special = false;
    }
  }
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "tokenizer.json"), JSON.stringify(json));
  fs.copyFileSync(path.join(v3Dir, "tokenizer_config.json"), path.join(outDir, "tokenizer_config.json"));
}

const [command, a, b, c] = process.argv.slice(2);
if (command === "encode" && c) encode(a, b, c);
else if (command === "make-r1" && b) makeR1(a, b);
else {
  console.error("usage: node reference.js encode TOKENIZER_JSON CORPUS OUTDIR | make-r1 V3_MODELS_DIR OUTDIR");
  process.exit(2);
}
