"""The teaching notebook runs end to end on the bundled clip."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "audio_processing_basics.ipynb"


def test_notebook_is_stored_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_notebook_executes(tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    text = "\n".join(out.get("text", "") for c in nb.cells if c.cell_type == "code"
                     for out in c.outputs)
    assert "11.00 s; source 44100 Hz, 2 channels" in text
    # Each SNR printed by the notebook is the one requested, to two decimals.
    for target in (20, 5, 0):
        assert f"asked {target:>2} dB, measured {target:.2f} dB" in text
    images = sum("image/png" in out.get("data", {}) for c in nb.cells
                 for out in c.get("outputs", []))
    assert images >= 7
    nbformat.write(nb, tmp_path / "executed.ipynb")
    assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))


if __name__ == "__main__":
    pytest.main([__file__])
