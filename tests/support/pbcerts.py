"""Certificates for TLS tests, made by the openssl command in a test's
temporary directory: a CA of the test's own and server certificates it
signs (for 127.0.0.1 and localhost unless told otherwise), expired ones
included. Nothing is read from or written to the system's trust store."""
import base64
import hashlib
import os
import ssl
import subprocess


def _openssl(*args, stdin=None):
    return subprocess.run(["openssl"] + list(args), input=stdin, capture_output=True,
                          check=True).stdout


def _new_key(path):
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)
    os.chmod(path, 0o600)


class CertAuthority:
    def __init__(self, tmp, name="ca"):
        self.tmp, self.name = tmp, name
        self.key = tmp.join(f"{name}.key")
        self.cert = tmp.join(f"{name}.pem")
        _new_key(self.key)
        _openssl("req", "-x509", "-new", "-key", self.key, "-out", self.cert, "-days", "30",
                 "-subj", f"/CN=phonebind test {name}", "-addext",
                 "basicConstraints=critical,CA:TRUE", "-addext",
                 "keyUsage=critical,keyCertSign,cRLSign")
        self.serial = 1

    def issue(self, name, hosts=("localhost", "127.0.0.1"), days=30, key=None):
        """A server certificate for hosts (DNS names and IP addresses),
        valid for days from now (negative: it expired days ago); returns
        (certificate path, key path). key: reuse that key file."""
        cert = self.tmp.join(f"{name}.pem")
        if key is None:
            key = self.tmp.join(f"{name}.key")
            _new_key(key)
        csr = self.tmp.join(f"{name}.csr")
        ext = self.tmp.join(f"{name}.ext")
        alt = ",".join(("IP:" if h.replace(".", "").isdigit() or ":" in h else "DNS:") + h
                       for h in hosts)
        with open(ext, "w") as f:
            f.write(f"subjectAltName={alt}\nextendedKeyUsage=serverAuth\n"
                    "basicConstraints=critical,CA:FALSE\n")
        _openssl("req", "-new", "-key", key, "-out", csr, "-subj", f"/CN={hosts[0]}")
        self.serial += 1
        args = ["x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key, "-set_serial",
                str(self.serial), "-out", cert, "-extfile", ext, "-days", str(days)]
        # days < 0: notBefore now and notAfter before it, which every
        # verifier reports as expired
        _openssl(*args)
        return cert, key

    def client_context(self):
        """An ssl context that trusts this CA only (TLS 1.2 at least)."""
        context = ssl.create_default_context(cafile=self.cert)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context


def spki_pin(cert_or_key):
    """libcurl's pinned-public-key form of a certificate's (or a private
    key's) public key: sha256//BASE64 of the DER SubjectPublicKeyInfo."""
    with open(cert_or_key, "rb") as f:
        pem = f.read()
    if b"CERTIFICATE" in pem:
        public = _openssl("x509", "-pubkey", "-noout", stdin=pem)
    else:
        public = _openssl("pkey", "-pubout", stdin=pem)
    der = _openssl("pkey", "-pubin", "-outform", "DER", stdin=public)
    return "sha256//" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def served_certificate(port, host="127.0.0.1"):
    """The certificate (PEM) a TLS server on port presents, unverified."""
    return ssl.get_server_certificate((host, port))


def pem_of(path):
    """A certificate file's PEM, as ssl.get_server_certificate gives it."""
    with open(path) as f:
        return ssl.DER_cert_to_PEM_cert(ssl.PEM_cert_to_DER_cert(f.read()))
