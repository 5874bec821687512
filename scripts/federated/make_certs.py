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


def make_supernode_keys(out: Path, districts: list[str]) -> dict[str, str]:
    index = {}
    for i, district in enumerate(districts, start=1):
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
    args = ap.parse_args(argv)
    if not args.district:
        ap.error("give at least one --district")
    ca_key, ca_cert = make_ca(args.out, args.days)
    make_server_cert(args.out, ca_key, ca_cert, args.host, args.days)
    index = make_supernode_keys(args.out, args.district)
    print(f"wrote CA, SuperLink certificate and {len(index)} SuperNode key pair(s) under {args.out}")


if __name__ == "__main__":
    main()
