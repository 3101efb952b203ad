"""Tests of deepnum.data (a package, so test module names cannot clash with other folders')."""
