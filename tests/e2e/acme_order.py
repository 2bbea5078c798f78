#!/usr/bin/python3
# acme_order.py -- one ACME order by a chosen DNS challenge type, on Debian's python3-acme, publishing through a command: for challenge types no Debian client speaks.
# SPDX-License-Identifier: GPL-2.0-or-later
"""One ACME order, by one DNS challenge type, for the tests.

    acme_order.py --directory URL --ca PEM --challenge TYPE -d DOMAIN [-d ...]
                  --publish CMD [--cleanup CMD] [--account-key FILE]
                  [--account-hook CMD] [--ready-file F --go-file G] [--cert FILE]
    acme_order.py --directory URL --ca PEM --account-key FILE --register-only
                  [--account-hook CMD]

--register-only makes the account (or finds the key's) and stops: a test
learns the account URL (printed as "account: URL") before the customer's
records for it exist.  Challenge types with a record rule: dns-01,
dns-account-01 and dns-persist-01 (see record(); a new type adds its rule
there).

The ACME protocol is python3-acme's (certbot's library, in Debian): account,
order, authorisations, the challenge answer, polling, finalisation.  What a
client of a new challenge type adds is small and lives here: the record name
and value the CA will look up (record()), computed from the challenge object.

Each command runs through /bin/sh with the challenge in the environment:
ACME_CHALLENGE (the type), ACME_DOMAIN (the identifier, without "*."),
ACME_NAME (the owner name the CA asks, no final dot), ACME_VALUE (the TXT
value), ACME_ACCOUNT_URI, ACME_TOKEN and ACME_KEYAUTH (where the type has
them).  --account-hook runs once after the account exists, with
ACME_ACCOUNT_URI (and the account's label as ACME_ACCOUNT_LABEL).  --publish
runs for every challenge before any is answered, --cleanup for every one at
the end, whatever happened.  A command that fails fails the run.

With --ready-file and --go-file, the script touches the first once every
value is published and waits (at most 120 s) for the second before it
answers: a test can make several orders validate at the same time.

Exit status: 0 a certificate was issued; 1 the CA refused (an authorisation
or the order became invalid: the problem is printed); 2 anything else.
"""

import argparse
import base64
import datetime
import hashlib
import os
import subprocess
import sys
import time

from acme import challenges, client, errors, messages
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import josepy as jose

POLL_SECONDS = 90	# an authorisation's and the order's own deadline
GO_SECONDS = 120	# --go-file


class Refused(Exception):
    """The CA refused: an authorisation or the order is invalid."""


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def account_label(uri):
    """dns-account-01's label (draft-ietf-acme-dns-account-label): "_" and
    base32 of the first 10 octets of SHA-256 over the account URL, in lower
    case as DNS names are compared."""
    digest = hashlib.sha256(uri.encode("utf-8")).digest()[:10]
    return "_" + base64.b32encode(digest).decode("ascii").lower()


def chall_field(chall, name):
    """A field of a challenge object, known to python3-acme or not."""
    if isinstance(chall, challenges.UnrecognizedChallenge):
        return chall.jobj.get(name)
    value = chall.to_partial_json().get(name)
    return value


def record(ctype, chall, domain, key, account_uri):
    """(owner name, TXT value, token, key authorisation) the CA checks."""
    token = chall_field(chall, "token")
    keyauth = None
    if token is not None:
        thumb = b64url(key.thumbprint(hash_function=hashes.SHA256))
        keyauth = token + "." + thumb
    if ctype == "dns-01":
        return ("_acme-challenge." + domain,
                b64url(hashlib.sha256(keyauth.encode()).digest()), token, keyauth)
    if ctype == "dns-account-01":
        return (account_label(account_uri) + "._acme-challenge." + domain,
                b64url(hashlib.sha256(keyauth.encode()).digest()), token, keyauth)
    if ctype == "dns-persist-01":
        # A standing record (draft-ietf-acme-dns-persist-01): published
        # before the order, so ACME_VALUE is what --publish may check.
        # pebble 2.10 names the field issuer-domain-names, the draft
        # issuerDomainNames.
        issuers = (chall_field(chall, "issuer-domain-names")
                   or chall_field(chall, "issuerDomainNames") or ["?"])
        return ("_validation-persist." + domain,
                "%s; accounturi=%s" % (issuers[0], account_uri), token, keyauth)
    raise SystemExit("acme_order.py: no record rule for challenge type '%s'" % ctype)


def run(cmd, env, what):
    """Run a command with env added; exit 2 if it fails."""
    full = dict(os.environ)
    full.update({k: v for k, v in env.items() if v is not None})
    res = subprocess.run(cmd, shell=True, env=full, check=False)
    if res.returncode != 0:
        raise RuntimeError("%s command failed (exit %d): %s" % (what, res.returncode, cmd))


def load_key(path):
    """The account key from path, made (EC P-256) if path is missing."""
    if path and os.path.exists(path):
        with open(path, "rb") as f:
            pkey = serialization.load_pem_private_key(f.read(), password=None)
    else:
        pkey = ec.generate_private_key(ec.SECP256R1())
        if path:
            with open(path, "wb") as f:
                f.write(pkey.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return jose.JWKEC(key=pkey), pkey


def account(directory_url, key):
    """A ClientV2 with the account of key (new or existing) and its URL."""
    alg = jose.ES256
    net = client.ClientNetwork(key, alg=alg, user_agent="acmezone-tests")
    directory = client.ClientV2.get_directory(directory_url, net)
    acme = client.ClientV2(directory, net)
    reg = messages.NewRegistration.from_data(terms_of_service_agreed=True)
    try:
        regr = acme.new_account(reg)
    except errors.ConflictError as e:
        # The key has an account already: use it.
        regr = messages.RegistrationResource(uri=e.location, body=messages.Registration())
        net.account = regr
    return acme, regr.uri


def csr_pem(domains):
    pkey = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName(d) for d in domains]
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domains[0])]))
           .add_extension(x509.SubjectAlternativeName(names), critical=False)
           .sign(pkey, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.PEM)


def poll_authz(acme, authzr, deadline):
    """Poll one authorisation until it is valid; Refused if invalid."""
    while True:
        authzr, _ = acme.poll(authzr)
        status = authzr.body.status
        if status == messages.STATUS_VALID:
            return
        if status == messages.STATUS_INVALID:
            problems = [str(c.error) for c in authzr.body.challenges if c.error]
            raise Refused("authorisation for %s is invalid: %s"
                          % (authzr.body.identifier.value, "; ".join(problems) or "no detail"))
        if time.time() > deadline:
            raise RuntimeError("authorisation for %s still %s after %d s"
                               % (authzr.body.identifier.value, status, POLL_SECONDS))
        time.sleep(0.5)


def wait_file(path):
    deadline = time.time() + GO_SECONDS
    while not os.path.exists(path):
        if time.time() > deadline:
            raise RuntimeError("no %s within %d s" % (path, GO_SECONDS))
        time.sleep(0.1)


def order(args):
    key, _ = load_key(args.account_key)
    acme, uri = account(args.directory, key)
    print("account: %s" % uri, flush=True)
    if args.account_hook:
        run(args.account_hook, {"ACME_ACCOUNT_URI": uri,
                                "ACME_ACCOUNT_LABEL": account_label(uri)}, "account hook")
    if args.register_only:
        return
    orderr = acme.new_order(csr_pem(args.domain))
    published = []
    try:
        todo = []
        for authzr in orderr.authorizations:
            domain = authzr.body.identifier.value
            if authzr.body.status == messages.STATUS_VALID:
                # The CA reused an earlier valid authorisation of this
                # account (pebble does now and then, even with
                # PEBBLE_AUTHZREUSE=0): nothing to prove.
                print("reused: %s" % domain, flush=True)
                continue
            offered = [c.chall.typ if not isinstance(c.chall, challenges.UnrecognizedChallenge)
                       else c.chall.jobj.get("type") for c in authzr.body.challenges]
            print("offered: %s %s" % (domain, " ".join(offered)), flush=True)
            challb = [c for c, t in zip(authzr.body.challenges, offered) if t == args.challenge]
            if not challb:
                raise RuntimeError("%s: the CA offers %s, not %s"
                                   % (domain, " ".join(offered), args.challenge))
            name, value, token, keyauth = record(args.challenge, challb[0].chall, domain,
                                                 key, uri)
            env = {"ACME_CHALLENGE": args.challenge, "ACME_DOMAIN": domain,
                   "ACME_NAME": name, "ACME_VALUE": value, "ACME_ACCOUNT_URI": uri,
                   "ACME_TOKEN": token, "ACME_KEYAUTH": keyauth}
            run(args.publish, env, "publish")
            published.append(env)
            print("published: %s TXT %s" % (name, value), flush=True)
            todo.append((authzr, challb[0], keyauth))
        if args.ready_file:
            open(args.ready_file, "w").close()
        if args.go_file:
            wait_file(args.go_file)
        deadline = time.time() + POLL_SECONDS
        for authzr, challb, keyauth in todo:
            # Every DNS challenge is answered with an empty object.
            acme.answer_challenge(challb, challenges.DNS01Response(key_authorization=keyauth or ""))
        for authzr, _, _ in todo:
            poll_authz(acme, authzr, deadline)
        finished = acme.poll_and_finalize(
            orderr, deadline=datetime.datetime.now() + datetime.timedelta(seconds=POLL_SECONDS))
        if args.cert:
            with open(args.cert, "w") as f:
                f.write(finished.fullchain_pem)
        print("issued: %s" % " ".join(args.domain), flush=True)
    finally:
        for env in published:
            if args.cleanup:
                try:
                    run(args.cleanup, env, "cleanup")
                except RuntimeError as e:
                    print("acme_order.py: %s" % e, file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--directory", required=True, help="the ACME directory URL")
    p.add_argument("--ca", required=True, help="the CA bundle that signs the server's certificate")
    p.add_argument("--challenge", help="dns-01, dns-account-01 or dns-persist-01")
    p.add_argument("-d", "--domain", action="append")
    p.add_argument("--publish")
    p.add_argument("--register-only", action="store_true")
    p.add_argument("--cleanup")
    p.add_argument("--account-key", help="the account key (PEM), made if missing")
    p.add_argument("--account-hook")
    p.add_argument("--ready-file")
    p.add_argument("--go-file")
    p.add_argument("--cert", help="where the certificate chain goes")
    args = p.parse_args()
    if not args.register_only and not (args.challenge and args.domain and args.publish):
        p.error("--challenge, -d and --publish are needed for an order")
    os.environ["REQUESTS_CA_BUNDLE"] = args.ca
    try:
        order(args)
    except Refused as e:
        print("refused: %s" % e, flush=True)
        return 1
    except errors.ValidationError as e:
        print("refused: %s" % e, flush=True)
        return 1
    except (RuntimeError, errors.Error, OSError) as e:
        print("acme_order.py: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
