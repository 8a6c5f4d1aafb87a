#!/usr/bin/env python3
"""Counts the predictions that contain a URL found in neither the request's context nor its
profile: an invented (or leaked) address. Reads a run's result lines and its requests.

    tools/check-urls.py RESULTS.jsonl REQUESTS.jsonl [--pred SLOT]
"""
import argparse
import json
import re

URL = re.compile(r'(?:https?://|www\.)[^\s<>"\')\]]+')


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument('results', help="a run's result lines (plume run --out, or DIR/NAME.results.jsonl)")
    ap.add_argument('requests', help='the requests it ran')
    ap.add_argument('--pred', default='output', help='the slot holding the prediction (default: output)')
    a = ap.parse_args()
    args, pred = [a.results, a.requests], a.pred
    requests = {}
    with open(args[1]) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                requests[r['id']] = r
    n = with_url = invented = 0
    with open(args[0]) as f:
        for line in f:
            if not line.strip():
                continue
            o = json.loads(line)
            r = requests[o['id']]
            source = r.get('context', '') + ' ' + ' '.join(
                (d.get('title') or '') + ' ' + d.get('text', '') for d in r.get('profile', []))
            urls = URL.findall(o.get(pred, ''))
            n += 1
            with_url += bool(urls)
            invented += any(u not in source for u in urls)
    print(f'{n} predictions, {with_url} with a URL, {invented} with a URL in neither context nor profile: '
          f'{100 * (n - invented) / n:.1f}% without an invented URL')


if __name__ == '__main__':
    main()
