#!/usr/bin/env python3
# Independent re-implementation of llama2.c run.c's encode() (BOS = 1, no EOS), run once to get the
# expected ids pasted into test_convert.c. Not part of the build. Usage: llama2c_encode.py TOK.bin TEXT...

import struct, sys
d=open(sys.argv[1],'rb').read()
o=4; vocab=[]; scores=[]
while o<len(d):
    s,l=struct.unpack('<fi',d[o:o+8]); o+=8; vocab.append(d[o:o+l]); scores.append(s); o+=l
lookup={}
for i,v in enumerate(vocab):
    lookup.setdefault(v,i)   # llama2.c uses bsearch over sorted vocab; no duplicates expected
assert len(lookup)==len(vocab)
def encode(text):
    toks=[1]
    if text: toks.append(lookup[b' '])
    b=text.encode()
    i=0
    while i<len(b):
        n=1
        c=b[i]
        if c>=0xC0: n= 2 if c<0xE0 else 3 if c<0xF0 else 4
        ch=b[i:i+n]
        if ch in lookup: toks.append(lookup[ch])
        else: toks.extend(x+3 for x in ch)
        i+=n
    while True:
        best=-1e10; bi=-1; bid=-1
        for j in range(len(toks)-1):
            s=vocab[toks[j]]+vocab[toks[j+1]]
            if s in lookup and scores[lookup[s]]>best:
                best=scores[lookup[s]]; bi=j; bid=lookup[s]
        if bi<0: break
        toks[bi:bi+2]=[bid]
    return toks
for p in sys.argv[2:]:
    print(repr(p), encode(p))
