"""test_pretokenize_regex: plume's hand-written pre-tokenizers against the published patterns run by
a real regex engine (Python's `regex` module: \\p{L}, \\p{N}, (?i:...) with Unicode case folding).

The patterns are those of the models' tokenizer.json files (GPT-2, Llama 3, Qwen2; SmolLM: Digits
with individual_digits, then GPT-2's pattern), with \\s spelled out as Unicode White_Space (Python's
\\s also takes U+001C..U+001F, which White_Space does not). Random strings over letters of several
scripts, digits of several kinds, punctuation, symbols, emoji with joiners, combining marks, every
kind of space and line break, and contractions in both cases.

usage: pretokenize_regex.py PRETOK_WORDS_BINARY
"""
import random
import subprocess
import sys

import regex

WS = "\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
S, NOT_S = "[" + WS + "]", "[^" + WS + "]"
OTHER = "[^" + WS + "\\p{L}\\p{N}]"
GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?" + OTHER + "+|" + S + "+(?!" + NOT_S + ")|" + S + "+"


def llama3(digits):
    return ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}" + digits + "| ?" + OTHER +
            "+[\\r\\n]*|" + S + "*[\\r\\n]+|" + S + "+(?!" + NOT_S + ")|" + S + "+")


PATTERNS = {"gpt-2": regex.compile(GPT2), "llama-bpe": regex.compile(llama3("{1,3}")),
            "qwen2": regex.compile(llama3(""))}


def smollm(text):
    words = []
    for part in regex.split("(\\p{N})", text):
        if regex.fullmatch("\\p{N}", part):
            words.append(part)
        elif part:
            words += PATTERNS["gpt-2"].findall(part)
    return words


ALPHABET = list("abcXYZ019'sStTlLdDmMreRE .,!?;:-_()[]{}\"#$%&*+/<=>@\\^`|~") + [
    "  ", "\t", "\n", "\r\n", "\n\n", "\r", "\x0b", "\x0c", "\x85",
    "\u00e9", "\u00f1", "\u00df", "\u0416", "\u0449", "\u4e2d", "\u6587", "\u65e5\u672c", "\u306e", "\u30fc",
    "\u30a2", "\ud55c", "\u0639", "\u0663", "\u0664", "\u0915\u094d\u0937", "\u093f", "\u093e", "\u00bd",
    "\u00b2", "\u216b", "\u2460", "\U0001f600", "\U0001f44d\U0001f3fd", "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\u200d", "\u00a0", "\u2003", "\u3000", "\u2028", "\u0301", "\u017f", "\u212a", "\u0130", "'", "''", "'S",
    "'ll", "'VE", "\u01c5", "\u02b0"]


def main():
    binary = sys.argv[1]
    rng = random.Random(20240611)
    texts = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 40))) for _ in range(10000)]
    data = b"".join(t.encode() + b"\0" for t in texts)
    failed = 0
    for name in ("gpt-2", "llama-bpe", "qwen2", "smollm"):
        run = subprocess.run([binary, name], input=data, capture_output=True, check=True)
        outputs = run.stdout.split(b"\0")[:-1]
        if len(outputs) != len(texts):
            print(f"{name}: {len(outputs)} results for {len(texts)} strings")
            failed += 1
            continue
        bad = 0
        for text, out in zip(texts, outputs):
            got = [w.decode() for w in out.split(b"\x1e")[:-1]]
            want = smollm(text) if name == "smollm" else PATTERNS[name].findall(text)
            if got != want:
                bad += 1
                if bad <= 3:
                    print(f"{name}: {text!r}\n  plume: {got}\n  regex: {want}")
        print(f"{name}: {len(texts) - bad} of {len(texts)} strings cut as the regex cuts them")
        failed += bad > 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
