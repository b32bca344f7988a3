"""The questions the project actions ask the user, one method each, so that tests can answer
them with a subclass instead of a modal dialog."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from filterscope.core.project.store import PROJECT_FILTER, PROJECT_SUFFIX

Button = QMessageBox.StandardButton


class ProjectDialogs:
    """File dialogs and message boxes over ``parent``."""

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def open_path(self) -> Path | None:
        """The project file to open, or None."""
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open project", "", PROJECT_FILTER)
        return Path(path) if path else None

    def save_path(self, suggested: str) -> Path | None:
        """Where to save the project (with the project suffix), or None."""
        path, _ = QFileDialog.getSaveFileName(self.parent, "Save project as", suggested, PROJECT_FILTER)
        if not path:
            return None
        return Path(path) if path.endswith(PROJECT_SUFFIX) else Path(path + PROJECT_SUFFIX)

    def dataset_folder(self, missing: Path) -> Path | None:
        """The dataset's new folder, when the one the project names is gone; None to give up."""
        answer = QMessageBox.question(
            self.parent, "Dataset not found",
            f"The project's dataset is no longer at\n{missing}\n\nIt may have been moved or renamed, "
            "or its drive is not connected. Choose the folder it is in now?",
            Button.Yes | Button.Cancel, Button.Yes)
        if answer != Button.Yes:
            return None
        folder = QFileDialog.getExistingDirectory(self.parent, f"Where is the dataset '{missing.name}' now?")
        return Path(folder) if folder else None

    def save_changes(self, name: str) -> str:
        """``save``, ``discard`` or ``cancel`` for a project with unsaved changes."""
        answer = QMessageBox.question(self.parent, "Unsaved changes",
                                      f"Save the changes to {name} first?",
                                      Button.Save | Button.Discard | Button.Cancel, Button.Save)
        return {Button.Save: "save", Button.Discard: "discard"}.get(answer, "cancel")

    def recover(self, path: Path, when: str) -> bool:
        """True to reopen the unsaved project kept at ``path`` (last written ``when``)."""
        answer = QMessageBox.question(
            self.parent, "Recover unsaved project",
            f"Filterscope kept the unsaved project of an earlier session (last saved {when}).\n"
            "Recover it? If not, it is deleted.", Button.Yes | Button.No, Button.Yes)
        return answer == Button.Yes

    def error(self, message: str) -> None:
        """Say what went wrong (the message names the file)."""
        QMessageBox.warning(self.parent, "Project", message)
