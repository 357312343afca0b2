package org.jtarget.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FormatTest {
    @Test
    void sizesUseTheSuffixesBackstoresAccept() {
        assertEquals("-", Args.size(0));
        assertEquals("512B", Args.size(512));
        assertEquals("1K", Args.size(1024));
        assertEquals("1.5G", Args.size(3L << 29));
        assertEquals("1G", Args.size(1L << 30));
        assertEquals("16T", Args.size(16L << 40));
    }

    @Test
    void tableAlignsPadsEmptyCellsAndTrimsLines() {
        String table = new Table("NAME", "COUNT>", "NOTE").row("a", 5, "").row("longer", 12345, "x y").toString();
        assertEquals(""
                + "NAME    COUNT  NOTE\n"
                + "a           5  -\n"
                + "longer  12345  x y\n", table);
        assertEquals("A  B\n", new Table("A", "B").toString());
    }

    @Test
    void secretKeysAreMasked() {
        assertTrue(Args.isSecretKey("secret_key"));
        assertTrue(Args.isSecretKey("Password"));
        assertTrue(Args.isSecretKey("session_token"));
        assertFalse(Args.isSecretKey("access_key"));
        assertEquals(Args.MASK, Args.shown("secret_key", "s3cr3t"));
        assertEquals("vols", Args.shown("bucket", "vols"));
    }

    @Test
    void numbersOutsideTheirRangeAreRefused() {
        assertEquals(65535, Args.tag("65535"));
        assertEquals(0, Args.lun("0"));
        assertEquals("TPG tag: 99999999999999999999 (expected a number 1..65535)",
                org.junit.jupiter.api.Assertions.assertThrows(CommandFailure.class,
                        () -> Args.tag("99999999999999999999")).getMessage());
        assertEquals("LUN: -1 (expected 0..16383)",
                org.junit.jupiter.api.Assertions.assertThrows(CommandFailure.class, () -> Args.lun("-1")).getMessage());
    }
}
