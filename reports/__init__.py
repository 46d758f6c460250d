"""Result file -> verdict, charts, HTML, JUnit, CSV (see issue 4)."""
