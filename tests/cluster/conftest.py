"""pytest options of the cluster checks: which binaries stand for the guard's image."""


def pytest_addoption(parser):
    parser.addoption("--guard-binary", required=True, help="the longhorn-uninstall-guard binary to run as the image")
    parser.addoption("--supervisor-binary", default="", help="the static longhorn-uninstall-supervisor, if built")
