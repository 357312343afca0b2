package org.jtarget.core.internal.sense;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.CompletionException;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.BackstoreException;
import org.junit.jupiter.api.Test;

class SenseDataTest {
    @Test
    void fixedFormatCarriesKeyAscAscq() {
        byte[] s = SenseData.encode(Sense.of(SenseReason.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE), false);
        byte[] expected = new byte[18];
        expected[0] = 0x70;
        expected[2] = 0x05;
        expected[7] = 10;
        expected[12] = 0x21;
        assertArrayEquals(expected, s);
    }

    @Test
    void fixedFormatInformationSetsValid() {
        byte[] s = SenseData.encode(Sense.of(SenseReason.MISCOMPARE_DURING_VERIFY_OPERATION).withInformation(0x1234), false);
        assertEquals(0xF0, s[0] & 0xFF);
        assertEquals(0x0E, s[2]);
        assertEquals(0, s[3]);
        assertEquals(0, s[4]);
        assertEquals(0x12, s[5]);
        assertEquals(0x34, s[6]);
        assertEquals(0x1D, s[12]);
    }

    @Test
    void fixedFormatFieldPointer() {
        byte[] s = SenseData.encode(Sense.invalidCdbField(2, 5), false);
        assertEquals(0x24, s[12]);
        assertEquals(0x80 | 0x40 | 0x08 | 5, s[15] & 0xFF); // SKSV, C/D, BPV, bit 5
        assertEquals(0, s[16]);
        assertEquals(2, s[17]);
        byte[] whole = SenseData.encode(Sense.invalidParameterField(0x102, -1), false);
        assertEquals(0x80, whole[15] & 0xFF); // parameter data, no bit pointer
        assertEquals(0x01, whole[16]);
        assertEquals(0x02, whole[17]);
    }

    @Test
    void descriptorFormatHeaderOnly() {
        byte[] s = SenseData.encode(Sense.of(SenseReason.POWER_ON_OCCURRED), true);
        assertArrayEquals(new byte[] {0x72, 0x06, 0x29, 0x01, 0, 0, 0, 0}, s);
    }

    @Test
    void descriptorFormatWithInformationAndFieldPointer() {
        Sense sense = Sense.invalidCdbField(1, 7).withInformation(0x0102030405060708L);
        byte[] s = SenseData.encode(sense, true);
        assertEquals(8 + 12 + 8, s.length);
        assertEquals(20, s[7]);
        // information descriptor (SPC-4 4.5.2.2)
        assertEquals(0x00, s[8]);
        assertEquals(0x0A, s[9]);
        assertEquals(0x80, s[10] & 0xFF);
        for (int i = 0; i < 8; i++) {
            assertEquals(i + 1, s[12 + i]);
        }
        // sense key specific descriptor (SPC-4 4.5.2.3)
        assertEquals(0x02, s[20]);
        assertEquals(0x06, s[21]);
        assertEquals(0x80 | 0x40 | 0x08 | 7, s[24] & 0xFF);
        assertEquals(0, s[25]);
        assertEquals(1, s[26]);
    }

    @Test
    void failuresMapToTheirSense() {
        assertEquals(SenseReason.WRITE_ERROR, SenseData.fromThrowable(new CompletionException(
                new BackstoreException(SenseReason.WRITE_ERROR, "disk"))).reason());
        assertEquals(SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE,
                SenseData.fromThrowable(new IllegalStateException("bug")).reason());
        assertEquals(SenseReason.INVALID_FIELD_IN_CDB,
                SenseData.fromThrowable(Sense.invalidCdbField(1, 1).exception()).reason());
    }
}
