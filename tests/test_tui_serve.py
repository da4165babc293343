from dadan.tui.cli import build_parser
from dadan.tui.commands import serve


def test_serve_binds_localhost_by_default(monkeypatch):
    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1" and args.port == 8000
    seen = {}

    class FakeServer:
        def __init__(self, command, host, port, title=None, public_url=None):
            seen.update(command=command, host=host, port=port)

        def serve(self):
            seen["served"] = True

    import textual_serve.server

    monkeypatch.setattr(textual_serve.server, "Server", FakeServer)
    assert serve.run(args, ctx=None) == 0
    assert seen["host"] == "127.0.0.1" and seen["served"] and seen["command"].endswith("-m dadan.tui ui")
