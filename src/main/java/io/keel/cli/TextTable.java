package io.keel.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Text columns for a terminal: each column as wide as its widest cell, two spaces apart, the
 * last one unpadded. A null cell prints as {@code -}.
 */
final class TextTable {
  private final List<String[]> rows = new ArrayList<>();
  private final int columns;

  /** A table whose first row is {@code header}. */
  TextTable(String... header) {
    this.columns = header.length;
    rows.add(header);
  }

  /** Adds a row of exactly as many cells as the header has. */
  TextTable row(Object... cells) {
    if (cells.length != columns) {
      throw new IllegalArgumentException("a row needs " + columns + " cells, had "
          + cells.length);
    }
    String[] r = new String[columns];
    for (int i = 0; i < columns; i++) {
      r[i] = cells[i] == null ? "-" : cells[i].toString();
    }
    rows.add(r);
    return this;
  }

  /** The header and the rows, aligned. */
  List<String> lines() {
    int[] width = new int[columns];
    for (String[] r : rows) {
      for (int i = 0; i < columns; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    List<String> out = new ArrayList<>();
    for (String[] r : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < columns; i++) {
        line.append(r[i]);
        if (i < columns - 1) {
          line.append(" ".repeat(width[i] - r[i].length() + 2));
        }
      }
      out.add(line.toString());
    }
    return out;
  }
}
