"""Qt-free core of Filterscope: every computation the app, the CLI and the tests share."""
