#!/usr/bin/env python3
"""Independent reference for tests/eval/test_metrics.c (run by hand, not by ctest).

rouge-score and sacrebleu cannot be installed here, so this file restates their documented
conventions in plain Python, with Python's own `re` and `str` doing the tokenization (the C code
emulates these regular expressions byte by byte; this file uses them as written):
  ROUGE: rouge_score.tokenize.tokenize + nltk PorterStemmer() (NLTK_EXTENSIONS) + rouge_scorer.
  BLEU:  sacrebleu 13a tokenizer + BLEU.compute_bleu with smooth_method='exp'.
Prints the expected values that test_metrics.c hard-codes:  python3 tests/eval/reference.py
"""
import collections
import math
import re
import sys

# ---------------- NLTK PorterStemmer (NLTK_EXTENSIONS) ----------------
POOL = {"skies": "sky", "sky": "sky", "dying": "die", "lying": "lie", "tying": "tie", "news": "news",
        "innings": "inning", "inning": "inning", "outings": "outing", "outing": "outing",
        "cannings": "canning", "canning": "canning", "howe": "howe", "proceed": "proceed",
        "exceed": "exceed", "succeed": "succeed"}


def cons(w, i):
    if w[i] in "aeiou":
        return False
    if w[i] == "y":
        return True if i == 0 else not cons(w, i - 1)
    return True


def m(stem):
    seq = "".join("c" if cons(stem, i) else "v" for i in range(len(stem)))
    return seq.count("vc")


def vowel_in(stem):
    return any(not cons(stem, i) for i in range(len(stem)))


def double_c(w):
    return len(w) >= 2 and w[-1] == w[-2] and cons(w, len(w) - 1)


def cvc(w):
    return (len(w) >= 3 and cons(w, len(w) - 3) and not cons(w, len(w) - 2) and cons(w, len(w) - 1)
            and w[-1] not in "wxy") or (len(w) == 2 and not cons(w, 0) and cons(w, 1))


def rules(word, lst):
    for suf, rep, cond in lst:
        if suf == "*d":
            if double_c(word):
                stem = word[:-2]
                return stem + rep if cond(stem) else word
            continue
        if word.endswith(suf):
            stem = word[:len(word) - len(suf)]
            return stem + rep if (cond is None or cond(stem)) else word
    return word


def pos(s):
    return m(s) > 0


def stem(word):
    if word in POOL:
        return POOL[word]
    if len(word) <= 2:
        return word
    w = word
    # 1a
    if w.endswith("ies") and len(w) == 4:
        w = w[:-3] + "ie"
    else:
        w = rules(w, [("sses", "ss", None), ("ies", "i", None), ("ss", "ss", None), ("s", "", None)])
    # 1b
    if w.endswith("ied"):
        w = w[:-3] + ("ie" if len(w) == 4 else "i")
    elif w.endswith("eed"):
        s = w[:-3]
        w = s + "ee" if m(s) > 0 else w
    else:
        inter = None
        for suf in ("ed", "ing"):
            if w.endswith(suf) and vowel_in(w[:-len(suf)]):
                inter = w[:-len(suf)]
                break
        if inter is not None:
            last = inter[-1]
            w = rules(inter, [("at", "ate", None), ("bl", "ble", None), ("iz", "ize", None),
                              ("*d", last, lambda s: last not in "lsz"),
                              ("", "e", lambda s: m(s) == 1 and cvc(s))])
    # 1c
    w = rules(w, [("y", "i", lambda s: len(s) > 1 and cons(s, len(s) - 1))])
    # 2
    def step2(w):
        if w.endswith("alli") and m(w[:-4]) > 0:
            return step2(w[:-4] + "al")
        return rules(w, [("ational", "ate", pos), ("tional", "tion", pos), ("enci", "ence", pos),
                         ("anci", "ance", pos), ("izer", "ize", pos), ("bli", "ble", pos),
                         ("alli", "al", pos), ("entli", "ent", pos), ("eli", "e", pos),
                         ("ousli", "ous", pos), ("ization", "ize", pos), ("ation", "ate", pos),
                         ("ator", "ate", pos), ("alism", "al", pos), ("iveness", "ive", pos),
                         ("fulness", "ful", pos), ("ousness", "ous", pos), ("aliti", "al", pos),
                         ("iviti", "ive", pos), ("biliti", "ble", pos), ("fulli", "ful", pos),
                         ("logi", "log", lambda s: m(w[:-3]) > 0)])
    w = step2(w)
    w = rules(w, [("icate", "ic", pos), ("ative", "", pos), ("alize", "al", pos), ("iciti", "ic", pos),
                  ("ical", "ic", pos), ("ful", "", pos), ("ness", "", pos)])
    g1 = lambda s: m(s) > 1
    w = rules(w, [("al", "", g1), ("ance", "", g1), ("ence", "", g1), ("er", "", g1), ("ic", "", g1),
                  ("able", "", g1), ("ible", "", g1), ("ant", "", g1), ("ement", "", g1),
                  ("ment", "", g1), ("ent", "", g1),
                  ("ion", "", lambda s: m(s) > 1 and s[-1] in "st"), ("ou", "", g1), ("ism", "", g1),
                  ("ate", "", g1), ("iti", "", g1), ("ous", "", g1), ("ive", "", g1), ("ize", "", g1)])
    if w.endswith("e"):
        s = w[:-1]
        if m(s) > 1 or (m(s) == 1 and not cvc(s)):
            w = s
    ww = w
    w = rules(w, [("ll", "l", lambda s: m(ww[:-1]) > 1)])
    return w


# ---------------- rouge-score ----------------
def rouge_tokens(text):
    text = text.lower()
    text = re.sub(r"[^a-z0-9]+", " ", text)
    toks = re.split(r"\s+", text)
    toks = [stem(x) if len(x) > 3 else x for x in toks]
    return [x for x in toks if re.match(r"^[a-z0-9]+$", x)]


def fm(p, r):
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def rouge_n(t, p, n):
    tg = collections.Counter(tuple(t[i:i + n]) for i in range(len(t) - n + 1))
    pg = collections.Counter(tuple(p[i:i + n]) for i in range(len(p) - n + 1))
    inter = sum(min(c, pg[g]) for g, c in tg.items())
    prec = inter / max(sum(pg.values()), 1)
    rec = inter / max(sum(tg.values()), 1)
    return fm(prec, rec)


def rouge_l(t, p):
    if not t or not p:
        return 0.0
    tab = [[0] * (len(p) + 1) for _ in range(len(t) + 1)]
    for i in range(1, len(t) + 1):
        for j in range(1, len(p) + 1):
            tab[i][j] = tab[i - 1][j - 1] + 1 if t[i - 1] == p[j - 1] else max(tab[i - 1][j], tab[i][j - 1])
    lcs = tab[-1][-1]
    return fm(lcs / len(p), lcs / len(t))


# ---------------- sacrebleu ----------------
RE13 = [(re.compile(r'([\{-\~\[-\` -\&\(-\+\:-\@\/])'), r' \1 '),
        (re.compile(r'([^0-9])([\.,])'), r'\1 \2 '),
        (re.compile(r'([\.,])([^0-9])'), r' \1 \2'),
        (re.compile(r'([0-9])(-)'), r'\1 \2 ')]


def tok13a(line):
    line = line.rstrip()
    line = line.replace('<skipped>', '').replace('-\n', '').replace('\n', ' ')
    if '&' in line:
        line = line.replace('&quot;', '"').replace('&amp;', '&').replace('&lt;', '<').replace('&gt;', '>')
    line = f' {line} '
    for r, rep in RE13:
        line = r.sub(rep, line)
    return ' '.join(line.split())


def bleu_stats(h, r):
    h, r = tok13a(h).split(), tok13a(r).split()
    correct, total = [0] * 4, [0] * 4
    for n in range(1, 5):
        hg = collections.Counter(tuple(h[i:i + n]) for i in range(len(h) - n + 1))
        rg = collections.Counter(tuple(r[i:i + n]) for i in range(len(r) - n + 1))
        total[n - 1] = sum(hg.values())
        correct[n - 1] = sum(min(c, rg[g]) for g, c in hg.items())
    return [len(h), len(r)] + correct + total


def compute_bleu(st, eff_on):
    sys_len, ref_len, correct, total = st[0], st[1], st[2:6], st[6:10]
    bp = (math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0) if sys_len < ref_len else 1.0
    prec = [0.0] * 4
    if not any(correct):
        return 0.0
    smooth, eff = 1.0, 4
    for n in range(1, 5):
        if total[n - 1] == 0:
            break
        if eff_on:
            eff = n
        if correct[n - 1] == 0:
            smooth *= 2
            prec[n - 1] = 100.0 / (smooth * total[n - 1])
        else:
            prec[n - 1] = 100.0 * correct[n - 1] / total[n - 1]
    return bp * math.exp(sum(-9999999999 if p == 0 else math.log(p) for p in prec[:eff]) / eff)


def main():
    import json
    pairs = json.load(open(sys.argv[1])) if len(sys.argv) > 1 else PAIRS
    corpus = [0] * 10
    for pred, ref in pairs:
        t, p = rouge_tokens(ref), rouge_tokens(pred)
        st = bleu_stats(pred, ref)
        corpus = [a + b for a, b in zip(corpus, st)]
        print(json.dumps([pred, ref]))
        print("   rouge tokens pred=%r ref=%r" % (" ".join(p), " ".join(t)))
        print("   13a pred=%r ref=%r" % (tok13a(pred), tok13a(ref)))
        print("   R1 %.12f R2 %.12f RL %.12f sentBLEU %.12f" %
              (rouge_n(t, p, 1), rouge_n(t, p, 2), rouge_l(t, p), compute_bleu(st, True)))
    print("corpus BLEU %.12f stats %r" % (compute_bleu(corpus, False), corpus))


PAIRS = []
if __name__ == "__main__":
    main()


def gen_random_cases(path, seed=20231125, n_texts=300, n_pairs=200):
    """Writes random_cases.jsonl: random texts with their rouge-score and 13a tokens, and random
    word-sequence pairs with their scores. Fixed seed: the file is reproducible.
        python3 -c 'import reference; reference.gen_random_cases("random_cases.jsonl")'"""
    import json
    import random
    rnd = random.Random(seed)
    pieces = ["a", "B", "z", "0", "7", "42", " ", "  ", "\t", "\n", ".", ",", "-", "'", "\"", "&", "$", "/",
              "(", ")", "[", "]", "{", "}", "~", "`", "@", ":", ";", "?", "!", "<", ">", "=", "+", "*", "#", "%",
              "^", "_", "|", "\\", "&amp;", "&quot;", "&lt;", "&gt;", "<skipped>", "-\n", "3.14", "1,000",
              "é", "ß", "İ", "\u212a", "\u00a0", "\u2003", "\u3000", "\x1c", "\x85", "日本", "😀", "’",
              "running", "flies", "generously", "hopefulness", "Committee", "dying", "news", "happy"]
    words = ["the", "cat", "dogs", "running", "ran", "runs", "flies", "fly", "beer", "beers", "hopeful",
             "generous", "generously", "policy", "policies", ",", ".", "3.5", "well-known", "It's", "don't"]
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(n_texts):
            t = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 25)))
            f.write(json.dumps({"text": t, "rouge": " ".join(rouge_tokens(t)), "bleu13a": tok13a(t)},
                               ensure_ascii=True) + "\n")
        for _ in range(n_pairs):
            p = " ".join(rnd.choice(words) for _ in range(rnd.randint(0, 14)))
            r = " ".join(rnd.choice(words) for _ in range(rnd.randint(0, 14)))
            tp, tr = rouge_tokens(p), rouge_tokens(r)
            f.write(json.dumps({"pred": p, "ref": r, "r1": rouge_n(tr, tp, 1), "r2": rouge_n(tr, tp, 2),
                                "rl": rouge_l(tr, tp), "bleu": compute_bleu(bleu_stats(p, r), True)}) + "\n")
