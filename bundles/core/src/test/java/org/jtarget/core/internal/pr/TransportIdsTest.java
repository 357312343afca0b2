package org.jtarget.core.internal.pr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.jtarget.core.internal.sense.ScsiException;
import org.jtarget.scsi.SenseReason;
import org.junit.jupiter.api.Test;

/** iSCSI TransportIDs (SPC-4 7.6.4.6): both formats, padding, and what is refused. */
class TransportIdsTest {
    /** A TransportID as an initiator builds it: header, text, NUL, padding to {@code additional}. */
    static byte[] tid(int format, String text, int additional) {
        byte[] b = new byte[4 + additional];
        b[0] = (byte) ((format << 6) | 5);
        b[2] = (byte) (additional >>> 8);
        b[3] = (byte) additional;
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(t, 0, b, 4, Math.min(t.length, additional));
        return b;
    }

    static void refused(byte[] list, int field) {
        ScsiException e = assertThrows(ScsiException.class, () -> TransportIds.parse(list, 0, 0));
        assertEquals(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST, e.sense().reason());
        assertEquals(field, e.sense().fieldPointer(), "field pointer");
    }

    @Test
    void formatZeroNamesTheInitiatorDevice() {
        TransportIds.Initiator i = TransportIds.parse(tid(0, "iqn.1993-08.org.debian:01:Node1", 36), 0, 0);
        assertEquals("iqn.1993-08.org.debian:01:node1", i.name(), "names compare without case (RFC 3722)");
        assertNull(i.isid(), "any port of that initiator");
        assertEquals(40, i.length());
    }

    @Test
    void formatOneNamesAnInitiatorPort() {
        TransportIds.Initiator i = TransportIds.parse(tid(1, "iqn.2026-11.org.test:a,i,0x23D000000001", 40), 0, 0);
        assertEquals("iqn.2026-11.org.test:a", i.name());
        assertEquals("23d000000001", i.isid());
        assertEquals("iqn.2026-11.org.test:a,i,0x23d000000001", i.portName());
    }

    @Test
    void encodedIdsArePaddedToFourAndParseBack() {
        byte[] port = TransportIds.encode("iqn.2026-11.org.test:a", "23d000000001");
        assertEquals(0x45, port[0], "format 01b, iSCSI");
        assertEquals(0, (port.length - 4) % 4);
        assertEquals(0, port[port.length - 1], "NUL-terminated");
        assertEquals(new TransportIds.Initiator("iqn.2026-11.org.test:a", "23d000000001", port.length),
                TransportIds.parse(port, 0, 0));
        byte[] device = TransportIds.encode("iqn.x", null);
        assertEquals(24, device.length, "at least 20 bytes after the header");
        assertEquals(0x05, device[0], "format 00b");
        assertArrayEquals(device, tid(0, "iqn.x", 20));
    }

    @Test
    void badLengthsAreRefused() {
        refused(tid(0, "iqn.x", 18), 0); // shorter than the smallest TransportID
        byte[] odd = tid(0, "iqn.2026-11.org.test:abc", 26); // ADDITIONAL LENGTH not a multiple of 4
        refused(odd, 2);
        byte[] beyond = tid(0, "iqn.x", 20);
        beyond[3] = 40; // says more than the list holds
        refused(beyond, 2);
        refused(tid(0, "iqn.2026-11.org.test:aaaaaaaaaaaa", 20), 4); // no NUL within the length
        refused(tid(0, "", 20), 4); // empty name
    }

    @Test
    void otherProtocolsFormatsAndMalformedPortsAreRefused() {
        byte[] fc = tid(0, "iqn.x", 20);
        fc[0] = 0x00; // Fibre Channel
        refused(fc, 0);
        refused(tid(2, "iqn.x", 20), 0); // format 10b
        refused(tid(1, "iqn.x", 20), 4); // format 01b without ",i,0x"
        refused(tid(1, "iqn.x,i,0xzz", 20), 4 + 10); // ISID not hex
        refused(tid(1, "iqn.x,i,0x1234567890abc", 28), 4 + 10); // 13 digits
        refused(tid(0, "iqn.x,i,0x000000000001", 28), 4); // format 00b with an ISID
    }

    @Test
    void isidOfAPortName() {
        assertEquals("00023d000001", TransportIds.isidOf("iqn.x,i,0x23d000001"));
        assertNull(TransportIds.isidOf("iqn.x"));
    }
}
