package org.jtarget.shell.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * A plain-text table with aligned columns, two spaces apart, for terminals and {@code awk} alike: one header
 * line, one line per row, no borders. Empty cells print as "-" so that every row has the same number of
 * words. Columns named with a trailing {@code >} are right-aligned (numbers).
 */
final class Table {
    private final String[] headers;
    private final boolean[] right;
    private final List<String[]> rows = new ArrayList<>();

    Table(String... headers) {
        this.headers = new String[headers.length];
        this.right = new boolean[headers.length];
        for (int i = 0; i < headers.length; i++) {
            right[i] = headers[i].endsWith(">");
            this.headers[i] = right[i] ? headers[i].substring(0, headers[i].length() - 1) : headers[i];
        }
    }

    Table row(Object... cells) {
        if (cells.length != headers.length) {
            throw new IllegalArgumentException("cells: " + cells.length + " (expected: " + headers.length + ")");
        }
        String[] row = new String[cells.length];
        for (int i = 0; i < cells.length; i++) {
            String text = cells[i] == null ? "" : cells[i].toString();
            row[i] = text.isEmpty() ? "-" : text;
        }
        rows.add(row);
        return this;
    }

    boolean isEmpty() {
        return rows.isEmpty();
    }

    @Override
    public String toString() {
        int[] width = new int[headers.length];
        for (int i = 0; i < headers.length; i++) {
            width[i] = headers[i].length();
        }
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        StringBuilder out = new StringBuilder();
        line(out, headers, width);
        for (String[] row : rows) {
            line(out, row, width);
        }
        return out.toString();
    }

    private void line(StringBuilder out, String[] cells, int[] width) {
        int start = out.length();
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) {
                out.append("  ");
            }
            int pad = width[i] - cells[i].length();
            boolean last = i == cells.length - 1;
            if (right[i]) {
                out.append(" ".repeat(pad)).append(cells[i]);
            } else {
                out.append(cells[i]);
                if (!last) {
                    out.append(" ".repeat(pad));
                }
            }
        }
        // no trailing blanks
        int end = out.length();
        while (end > start && out.charAt(end - 1) == ' ') {
            end--;
        }
        out.setLength(end);
        out.append('\n');
    }
}
