package org.jtarget.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class AddressRangesTest {
    private static boolean allows(String spec, String address) throws Exception {
        return AddressRanges.parse(spec).allows(InetAddress.getByName(address));
    }

    @Test
    void defaultIsLoopbackOnly() throws Exception {
        assertTrue(allows(null, "127.0.0.1"));
        assertTrue(allows(null, "127.1.2.3"));
        assertTrue(allows(null, "::1"));
        assertFalse(allows(null, "10.0.0.1"));
        assertFalse(allows(null, "::2"));
    }

    @Test
    void rangesAndAny() throws Exception {
        assertTrue(allows("192.0.2.0/25", "192.0.2.127"));
        assertFalse(allows("192.0.2.0/25", "192.0.2.128"));
        assertTrue(allows("2001:db8::/32", "2001:db8:1::5"));
        assertFalse(allows("2001:db8::/32", "192.0.2.1"));
        assertTrue(allows("any", "198.51.100.1"));
        assertTrue(allows("0.0.0.0/0", "198.51.100.1"));
    }

    @Test
    void namesAndNonsenseAdmitNobodyAndAreReported() throws Exception {
        assertFalse(allows("localhost", "127.0.0.1"), "no name lookups");
        assertNotNull(AddressRanges.parse("localhost").problem());
        assertNotNull(AddressRanges.parse("10.0.0.0/33").problem());
        assertNull(AddressRanges.parse("10.0.0.0/8, ::1").problem());
    }
}
