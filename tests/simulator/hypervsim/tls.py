"""HTTPS for the listener: a TLS server context for the certificate the host serves.

Windows' HTTPS listener (port 5986) serves a certificate whose subject names the host; the client validates it
against its trust store (pywinrm's ca_trust_path, our module's ca_path).  testca.py makes one for the tests.
"""

import ssl


def server_context(cert_file: str, key_file: str) -> ssl.SSLContext:
    """A TLS 1.2+ server context, as a current Windows listener negotiates."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    return context
