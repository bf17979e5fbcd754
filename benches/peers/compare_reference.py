#!/usr/bin/env python3
"""Compares our (Rust) outputs with the NumPy reference of efficientnet_ref.py (issue 15's acceptance):

    python3 benches/peers/compare_reference.py REFERENCE.json OURS.json

Both files have the reference's shape: {"inputs": [{"name", "logits": [1000]}], "gradient": {"class",
"values": [3*224*224]}}. OURS.json needs the inputs it has in common with the reference (matched by name) and,
if it has one, the gradient at the same class. Passes when every logit is within 1e-3 of the reference and the
gradient's cosine similarity is at least 0.9999; exits 1 otherwise. Standard library only.
"""
import json
import math
import sys

LOGIT_TOL = 1e-3
COSINE_MIN = 0.9999


def main():
    ref, ours = (json.load(open(p)) for p in sys.argv[1:3])
    ok, checked = True, 0
    theirs = {i["name"]: i["logits"] for i in ref["inputs"]}
    for item in ours.get("inputs", []):
        if item["name"] not in theirs:
            continue
        d = max(abs(a - b) for a, b in zip(item["logits"], theirs[item["name"]]))
        good = d <= LOGIT_TOL and len(item["logits"]) == len(theirs[item["name"]])
        ok &= good
        checked += 1
        print(f"{item['name']}: max |logit - reference| = {d:.3e} ({'ok' if good else 'FAIL'}, tolerance {LOGIT_TOL})")
    g = ours.get("gradient")
    if g:
        if g["class"] != ref["gradient"]["class"]:
            sys.exit("the gradients are at different classes")
        a, b = g["values"], ref["gradient"]["values"]
        dot = sum(x * y for x, y in zip(a, b))
        cos = dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))
        good = cos >= COSINE_MIN and len(a) == len(b)
        ok &= good
        checked += 1
        print(f"gradient at class {g['class']}: cosine {cos:.7f} ({'ok' if good else 'FAIL'}, minimum {COSINE_MIN})")
    if checked == 0:
        sys.exit("nothing in common with the reference was compared")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
