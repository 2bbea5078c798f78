#!/usr/bin/env python3
# make-seeds.py -- write the seed corpus of the fuzz targets (tests/fuzz/corpus/TARGET/); run from anywhere.
# SPDX-License-Identifier: GPL-2.0-or-later
import hashlib, os, struct, sys

here = os.path.dirname(os.path.abspath(__file__))

def out(target, name, data):
    d = os.path.join(here, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

def wire(name):
    w = b''
    for label in name.rstrip('.').split('.'):
        if label:
            w += bytes([len(label)]) + label.encode()
    return w + b'\0'

def crc32c(data, crc=0):
    crc ^= 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc ^ 0xffffffff

def record(vals, fmt=1, key=b'\x03foo\x04test\x00'):
    r = bytes([fmt]) + struct.pack('>H', len(vals))
    for exp, v in vals:
        r += struct.pack('>qB', exp, len(v)) + v
    if fmt == 2:
        r += struct.pack('>I', crc32c(r, crc32c(key)))
    return r

# Format 3 (octet 0x13): i64 expiry, i64 publication time (ms), u16 length.
def record3(vals, key=b'\x03foo\x04test\x00'):
    r = bytes([0x13]) + struct.pack('>H', len(vals))
    for exp, pub, v in vals:
        r += struct.pack('>qqH', exp, pub, len(v)) + v
    return r + struct.pack('>I', crc32c(r, crc32c(key)))

TOK = b'abcdefghijklmnopqrstuvwxyzABCDEFGHIJK-_0123'

# record: what LMDB hands back for a "tok" entry
out('record', 'one', record([(1700000000, TOK)]))
out('record', 'two', record([(1700000000, TOK), (-1, b'hello')]))
out('record', 'sealed', record([(1700000000, TOK)], fmt=2))
out('record', 'sealed-two', record([(5, b'x'), (1 << 40, b'y' * 255)], fmt=2))
out('record', 'empty', record([]))
out('record', 'v3-one', record3([(1700000000, 1700000000123, TOK)]))
out('record', 'v3-long', record3([(2 ** 63 - 1, 1, b'ca.test; accounturi=https://ca.test/a/' + b'p' * 300),
                                  (5, 0, b'x')]))
out('record', 'bad-len', bytes([1, 0, 1]) + struct.pack('>qB', 0, 200) + b'abc')

# name: text as given to the CLI (and the same octets as a wire name)
for i, n in enumerate(['_acme-challenge.example.org', 'Foo.Example.NET.', 'a.b.c.d.e.f',
                       'x' * 63 + '.org', '-bad.org', 'a..b', '.', '', 'xn--caf-dma.example',
                       '\u00e9.org', 'a\\.b.org', '1.2.3.4.in-addr.arpa']):
    out('name', 'text%02d' % i, n.encode())
out('name', 'wire', wire('_acme-challenge.example.org'))
out('name', 'wire-odd', b'\x03a.b\x02\\\x00\x00')

# batch: apply input
out('batch', 'basic', b'add _acme-challenge.example.org ' + TOK + b'\n'
                      b'add _acme-challenge.example.org ' + TOK[::-1] + b' 30m\n'
                      b'# comment\n\n'
                      b'del _acme-challenge.example.org ' + TOK + b'\n'
                      b'del other.example.org\n')
out('batch', 'raw', b'\x01add x.example.org hello-world 1d\r\ndel x.example.org hello-world\n')
out('batch', 'bad', b'\x00put x.example.org v\nadd\nadd a..b ' + TOK + b'\n')
out('batch', 'blanks', b'\x00  \t add \t a.example.org\t' + TOK + b'  90s \n')

# hook: one knob octet (response size, prior state), then a DNS query
def query(name, qtype, qid=0x1234, flags=0x0000, edns=True):
    q = struct.pack('>HHHHHH', qid, flags, 1, 0, 0, 1 if edns else 0)
    q += wire(name) + struct.pack('>HH', qtype, 1)
    if edns:
        q += b'\x00' + struct.pack('>HHIH', 41, 1232, 0, 0)
    return q
out('hook', 'txt', b'\x00' + query('_acme-challenge.example.test', 16))
out('hook', 'txt-case', b'\x00' + query('_ACME-Challenge.EXAMPLE.test', 16))
out('hook', 'any', b'\x01' + query('_acme-challenge.example.test', 255))
out('hook', 'a', b'\x00' + query('_acme-challenge.example.test', 1))
out('hook', 'ent', b'\x00' + query('below.example.test', 16))
out('hook', 'big-udp', b'\x00' + query('big.example.test', 16, edns=False))
out('hook', 'big-tcp', b'\x03' + query('big.example.test', 16))
out('hook', 'expired', b'\x00' + query('gone.example.test', 16))
out('hook', 'miss', b'\x00' + query('nothing.example.test', 16))
out('hook', 'hit-state', b'\x08' + query('_acme-challenge.example.test', 16))

# dns: one knob octet (fuzz_dns.c), then a reply as servers send them:
# owners compressed against the question, EDNS, the flags of an
# authoritative server (AA) or a resolver (RD RA).
def rr(owner, rtype, rdata, ttl=60):
    return owner + struct.pack('>HHIH', rtype, 1, ttl, len(rdata)) + rdata

def reply(name, qtype, rcode=0, flags=0x8400, an=(), ns=(), edns=True, ext=0):
    m = struct.pack('>HHHHHH', 0x4a7e, flags | rcode, 1, len(an), len(ns), 1 if edns else 0)
    m += wire(name) + struct.pack('>HH', qtype, 1)
    for r in list(an) + list(ns):
        m += r
    if edns:
        m += b'\x00' + struct.pack('>HHIH', 41, 1232, ext << 24, 0)
    return m

def txt(*strings):
    return b''.join(bytes([len(s)]) + s for s in strings)

Q = '_acme-challenge.example.test'
AT_Q = b'\xc0\x0c'			# the question's name
AT_EXAMPLE = b'\xc0\x1c'		# "example.test" inside it
AT_TEST = b'\xc0\x24'			# "test"
def soa(at):
    return b'\x02ns' + at + b'\x0ahostmaster' + at + struct.pack('>IIIII', 7, 3600, 900, 604800, 60)
out('dns', 'txt', b'\x00' + reply(Q, 16, an=[rr(AT_Q, 16, txt(TOK))]))
out('dns', 'txt-fixed-q', b'\x01' + reply(Q, 16, an=[rr(AT_Q, 16, txt(TOK))]))
out('dns', 'txt-many', b'\x00' + reply(Q, 16, an=[rr(AT_Q, 16, txt(TOK)), rr(AT_Q, 16, txt(TOK[::-1])),
                                                  rr(AT_Q, 16, txt(b'v=split', b'', b' in three'))]))
# A resolver's answer through the delegation: the CNAME, then TXT at its target.
tgt = b'\x0cexample-test\x0achallenges' + AT_TEST
out('dns', 'cname-txt', b'\x00' + reply(Q, 16, flags=0x8180,
                                        an=[rr(AT_Q, 5, tgt), rr(b'\xc0\x3a', 16, txt(TOK))]))
out('dns', 'cname', b'\x04' + reply(Q, 5, flags=0x8180, an=[rr(AT_Q, 5, tgt)]))
out('dns', 'nxdomain', b'\x00' + reply(Q, 16, rcode=3, ns=[rr(AT_TEST, 6, soa(AT_TEST), ttl=3600)]))
out('dns', 'nodata', b'\x08' + reply('example.test', 6, ns=[rr(b'\xc0\x14', 6, soa(b'\xc0\x14'))]))
out('dns', 'badvers', b'\x00' + reply(Q, 16, ext=1))
out('dns', 'servfail', b'\x00' + reply(Q, 16, rcode=2, flags=0x8180))
# Over TCP, more records than the client keeps (DNS_MAX_RRS is 64).
out('dns', 'txt-70', b'\x00' + reply(Q, 16, an=[rr(AT_Q, 16, txt(b'%02d' % i + TOK[2:])) for i in range(70)]))
out('dns', 'truncated', b'\x00' + reply(Q, 16, flags=0x8600))
out('dns', 'no-edns', b'\x00' + reply(Q, 16, an=[rr(AT_Q, 16, txt(TOK))], edns=False))
out('dns', 'loop', b'\x00' + reply(Q, 16, an=[rr(b'\x01x\xc0\x2e', 16, txt(TOK))]))
