"""Stand-in for the get-pip script ansible-test downloads to put pip into the virtualenvs it creates.

ansible-test fetches that script from a host outside the package registries, which CI cannot reach. This
file does the same job with what Python ships: ``ensurepip`` installs the bundled pip, which then installs
the pip version ansible-test asked for from the package index. The Makefile places it in ansible-test's
cache (``~/.ansible/test/cache/get_pip_<version>.py``) only when no real script is there.
"""

import ensurepip
import os
import subprocess
import sys

# Options of the real get-pip script that plain pip does not know.
GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")


def main() -> None:
    # ensurepip points PIP_CONFIG_FILE at /dev/null in this process; the install that follows must see the
    # machine's pip configuration (index, certificates) like any other pip run.
    environment = dict(os.environ)
    ensurepip.bootstrap(upgrade=True)
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args, env=environment))


if __name__ == "__main__":
    main()
