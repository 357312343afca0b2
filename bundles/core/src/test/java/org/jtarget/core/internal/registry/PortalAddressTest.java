package org.jtarget.core.internal.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import org.jtarget.api.TargetException;
import org.junit.jupiter.api.Test;

class PortalAddressTest {
    @Test
    void parsesIpv4AndBracketedIpv6() {
        PortalAddress v4 = PortalAddress.parse(" 127.0.0.1:3260 ");
        assertEquals(new InetSocketAddress("127.0.0.1", 3260), v4.address());
        assertEquals("127.0.0.1:3260", v4.text());
        PortalAddress v6 = PortalAddress.parse("[::1]:860");
        assertEquals(new InetSocketAddress("::1", 860), v6.address());
        assertEquals("[0:0:0:0:0:0:0:1]:860", v6.text());
        assertTrue(PortalAddress.parse("0.0.0.0:3260").matches(new InetSocketAddress("127.0.0.1", 3260)));
    }

    @Test
    void refusesWhatIsNotAnAddressWithAPort() {
        assertEquals("portal: 127.0.0.1 (expected host:port, e.g. 127.0.0.1:3260; IPv6 as [::1]:3260)", message("127.0.0.1"));
        assertEquals("portal port: 70000 (expected 1..65535)", message("127.0.0.1:70000"));
        assertEquals("portal port: x (expected a number 1..65535)", message("127.0.0.1:x"));
        assertEquals("portal host: 300.0.0.1 (expected an IPv4 address, octets 0..255)", message("300.0.0.1:3260"));
        assertEquals("portal: ::1:3260 (expected host:port, e.g. 127.0.0.1:3260; IPv6 as [::1]:3260)", message("::1:3260"));
        assertEquals("portal: [::1] (expected [ipv6]:port, e.g. [::1]:3260)", message("[::1]"));
        assertEquals("portal: empty (expected host:port or [ipv6]:port)", message(""));
        assertTrue(message("example.com:3260").contains("host names are not accepted"));
    }

    private static String message(String portal) {
        return assertThrows(TargetException.class, () -> PortalAddress.parse(portal)).getMessage();
    }
}
