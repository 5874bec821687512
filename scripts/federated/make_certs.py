"""Make the certificates and keys a govml federation needs (TLS + SuperNode authentication).

    python scripts/federated/make_certs.py OUT_DIR --district 东城 --district 西城 ... [--host link.example.gov]

Writes, under OUT_DIR:

* ``ca.crt`` / ``ca.key`` — a private certificate authority (keep ``ca.key`` offline);
* ``superlink.crt`` / ``superlink.key`` — the SuperLink's TLS certificate, valid for ``localhost``,
  ``127.0.0.1`` and every ``--host`` given (the names districts use to reach it);
* ``supernodes/<n>`` / ``supernodes/<n>.pub`` — one EC P-384 key pair per district in OpenSSH
  format: the private key stays on the district's machine (``flower-supernode
  --auth-supernode-private-key``), the public key is registered on the SuperLink
  (``flwr supernode register supernodes/<n>.pub``). ``supernodes/index.json`` maps file names to
  district names.

Only ``cryptography`` is needed (it comes with Flower). Certificates are valid for ``--days`` (365).

A folder that already holds a CA is not made again: ``--add`` writes key pairs for new districts only (numbered
after the existing ones, ``index.json`` extended; the CA and the SuperLink's certificate stay, so nothing
already deployed changes) — register the new public keys. ``--force`` starts over (a new CA: every SuperNode
needs the new ``ca.crt``, every district a new key, every key registered again).
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


def _write(path: Path, data: bytes, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if private:
        os.chmod(path, 0o600)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "govml federation"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(out: Path, days: int) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name("govml federation CA")).issuer_name(_name("govml federation CA"))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    _write(out / "ca.key", key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()), private=True)
    _write(out / "ca.crt", cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def make_server_cert(out: Path, ca_key: rsa.RSAPrivateKey, ca_cert: x509.Certificate, hosts: list[str],
                     days: int) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    names: list[x509.GeneralName] = []
    for h in ["localhost", "127.0.0.1", *hosts]:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            names.append(x509.DNSName(h))
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(hosts[0] if hosts else "localhost"))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    _write(out / "superlink.key", key.private_bytes(serialization.Encoding.PEM,
                                                    serialization.PrivateFormat.TraditionalOpenSSL,
                                                    serialization.NoEncryption()), private=True)
    _write(out / "superlink.crt", cert.public_bytes(serialization.Encoding.PEM))


def make_supernode_keys(out: Path, districts: list[str], index: dict[str, str] | None = None) -> dict[str, str]:
    """One key pair per district, numbered after those already in ``index`` (``--add``)."""
    index = dict(index or {})
    first = 1 + max((int(k.removeprefix("district")) for k in index if k.removeprefix("district").isdigit()),
                    default=0)
    for i, district in enumerate(districts, start=first):
        stem = f"district{i}"
        key = ec.generate_private_key(ec.SECP384R1())
        _write(out / "supernodes" / stem, key.private_bytes(serialization.Encoding.PEM,
                                                            serialization.PrivateFormat.OpenSSH,
                                                            serialization.NoEncryption()), private=True)
        pub = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        _write(out / "supernodes" / f"{stem}.pub", pub + f" {stem}\n".encode())
        index[stem] = district
    _write(out / "supernodes" / "index.json", json.dumps(index, ensure_ascii=False, indent=2).encode())
    return index


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--district", action="append", default=[], help="District name (repeat; one key pair each).")
    ap.add_argument("--host", action="append", default=[], help="Extra DNS name or IP of the SuperLink.")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--add", action="store_true",
                    help="The folder holds a CA already: write key pairs for these new districts only.")
    ap.add_argument("--force", action="store_true",
                    help="Make a new CA in a folder that holds one (every district needs new keys and ca.crt).")
    args = ap.parse_args(argv)
    if not args.district:
        ap.error("give at least one --district")
    names = [d.strip() for d in args.district]
    twice = sorted({d for d in names if names.count(d) > 1})
    if twice or not all(names):
        ap.error(f"each district once, by a non-empty name (given twice: {', '.join(twice)})" if twice
                 else "a --district name is empty")
    index_file = args.out / "supernodes" / "index.json"
    has_ca = (args.out / "ca.key").exists() or (args.out / "ca.crt").exists()
    if args.add:
        if not has_ca:
            ap.error(f"--add: {args.out} holds no CA (ca.crt / ca.key); make one first without --add")
        index = json.loads(index_file.read_text(encoding="utf-8")) if index_file.exists() else {}
        known = sorted(set(names) & set(index.values()))
        if known:
            ap.error(f"--add: {', '.join(known)} already {'has' if len(known) == 1 else 'have'} a key pair in "
                     f"{index_file} ({', '.join(k for k, v in index.items() if v in known)})")
        new = make_supernode_keys(args.out, names, index)
        added = [k for k in new if k not in index]
        print(f"wrote {len(added)} SuperNode key pair(s) under {args.out / 'supernodes'} ({', '.join(added)}); the CA "
              f"and the SuperLink certificate are unchanged — register the new .pub files with "
              f"`flwr supernode register`")
        return
    if has_ca and not args.force:
        ap.error(f"{args.out} already holds a CA: making it again would replace ca.crt (every SuperNode's), the "
                 "SuperLink's certificate and every district's key. Use --add to add districts, --force to start over")
    ca_key, ca_cert = make_ca(args.out, args.days)
    make_server_cert(args.out, ca_key, ca_cert, args.host, args.days)
    stale = sorted(index_file.parent.glob("district*")) if index_file.parent.is_dir() else []
    for f in stale:  # --force: the old keys would be mistaken for the new ones
        f.unlink()
    index = make_supernode_keys(args.out, names)
    print(f"wrote CA, SuperLink certificate and {len(index)} SuperNode key pair(s) under {args.out}")


if __name__ == "__main__":
    main()
