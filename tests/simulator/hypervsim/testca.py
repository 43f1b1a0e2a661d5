"""A throw-away test CA that tests generate at run time, for the simulator's HTTPS listener.

It gives the tests both halves: a CA certificate to trust, and a server certificate for localhost / 127.0.0.1 /
::1 signed by it.  Nothing generated here is committed: a CA key in a repository would be a CA anyone can sign
with.  Not imported by the package, so that `python -m hypervsim.testca DIR` runs it cleanly:

    python -m hypervsim.testca DIR   writes DIR/ca.pem, DIR/server.pem, DIR/server.key and prints their paths
"""

import datetime
import ipaddress
import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class CaFiles:
    ca_cert: str        # PEM: what a client trusts
    server_cert: str    # PEM: the listener's certificate (signed by the CA)
    server_key: str     # PEM: its private key


def make_test_ca(directory: str, names: tuple[str, ...] = ("localhost", "127.0.0.1", "::1"),
                 ca_name: str = "hypervsim test CA") -> CaFiles:
    """Generate a CA and a server certificate for `names` (DNS names or IP addresses) into `directory`."""
    # Imported here: only tests that use HTTPS need the cryptography package (pyspnego brings it anyway).
    # pylint: disable=import-outside-toplevel
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_name)])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_subject).issuer_name(ca_subject)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                            content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, encipher_only=False,
                                            decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = []
    for name in names:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt_names.append(x509.DNSName(name))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    os.makedirs(directory, exist_ok=True)
    files = CaFiles(os.path.join(directory, "ca.pem"), os.path.join(directory, "server.pem"),
                    os.path.join(directory, "server.key"))
    _write(files.ca_cert, ca_cert.public_bytes(serialization.Encoding.PEM))
    _write(files.server_cert, cert.public_bytes(serialization.Encoding.PEM))
    _write(files.server_key, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()), private=True)
    return files


def _write(path: str, data: bytes, private: bool = False) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m hypervsim.testca DIR")
    made = make_test_ca(sys.argv[1])
    print(f"ca: {made.ca_cert}\nserver_cert: {made.server_cert}\nserver_key: {made.server_key}")
