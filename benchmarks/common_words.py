"""Rebuild voice_trainer/dialogue/common_words.py from the scenario corpora (tests/data, scenarios)."""
import sys, yaml
from pathlib import Path
sys.path.insert(0, ".")
from voice_trainer.dialogue.traps import count_words

def strings(node, skip_keys=("patterns", "reject")):
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for x in node: yield from strings(x, skip_keys)
    elif isinstance(node, dict):
        for k, v in node.items():
            if k not in skip_keys: yield from strings(v, skip_keys)

out = ['"""Words people say in support calls, most frequent first, per language: what a pattern word is checked',
       'against for lemma traps (traps.py). Generated from the scenario corpora (the labelled utterances in',
       'tests/data and the scenarios\' lines and examples), words seen at least twice:',
       '',
       '    .venv/bin/python benchmarks/common_words.py > voice_trainer/dialogue/common_words.py',
       '"""', '', "COMMON_WORDS: dict[str, tuple[str, ...]] = {"]
for lang in ("ru", "en"):
    texts = []
    for f in sorted(Path("tests/data").glob(f"*.{lang}*.tsv")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if "\t" in line and not line.startswith("#"):
                texts.append(line.split("\t", 1)[1])
    for f in sorted(Path("scenarios").glob(f"*.{lang}.yaml")):
        texts += list(strings(yaml.safe_load(f.read_text(encoding="utf-8"))))
    counts = count_words(texts)
    words = [w for w, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= 2 and w.isalpha() or n >= 2 and "'" in w]
    out.append(f'    "{lang}": (')
    line = "        "
    for w in words:
        item = f'"{w}", '
        if len(line) + len(item) > 118:
            out.append(line.rstrip()); line = "        "
        line += item
    out.append(line.rstrip())
    out.append("    ),")
out.append("}")
print("\n".join(out))
