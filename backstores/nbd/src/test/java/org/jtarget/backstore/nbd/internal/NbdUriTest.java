package org.jtarget.backstore.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.BackstoreException;
import org.junit.jupiter.api.Test;

/** NBD URIs as doc/uri.md writes them, and the messages for those this client does not take. */
class NbdUriTest {
    @Test
    void tcpUrisTakeTheDefaultPortAndTheExportFromThePath() throws BackstoreException {
        assertEquals(new NbdUri("nbd://example.com/disk", "example.com", 10809, null, "disk"), NbdUri.parse("nbd://example.com/disk"));
        assertEquals(new NbdUri("nbd://127.0.0.1:10900", "127.0.0.1", 10900, null, ""), NbdUri.parse("nbd://127.0.0.1:10900"));
        assertEquals("a b/c", NbdUri.parse("nbd://127.0.0.1/a%20b/c").export());
        assertEquals("::1", NbdUri.parse("nbd://[::1]:7000/x").host());
    }

    @Test
    void unixUrisNeedTheSocketParameter() throws BackstoreException {
        NbdUri u = NbdUri.parse("nbd+unix:///disk?socket=/run/nbd%20x.sock");
        assertEquals("/run/nbd x.sock", u.socket());
        assertEquals("disk", u.export());
        assertEquals("uri: nbd+unix:///disk (no socket parameter; expected: nbd+unix:///EXPORT?socket=PATH)",
                refused("nbd+unix:///disk"));
    }

    @Test
    void otherFormsAreRefusedWithWhatIsExpected() {
        assertEquals("uri: nbds://h/x (TLS is not supported; expected: nbd:// or nbd+unix://)", refused("nbds://h/x"));
        assertEquals("uri: http://h/x (expected: nbd://HOST[:PORT][/EXPORT] or nbd+unix:///EXPORT?socket=PATH)", refused("http://h/x"));
        assertEquals("uri: nbd:///x (no host; expected: nbd://HOST[:PORT][/EXPORT])", refused("nbd:///x"));
        assertEquals("uri: disk.img (expected: nbd://HOST[:PORT][/EXPORT] or nbd+unix:///EXPORT?socket=PATH)", refused("disk.img"));
    }

    private static String refused(String uri) {
        BackstoreException e = assertThrows(BackstoreException.class, () -> NbdUri.parse(uri));
        assertEquals(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST, e.reason());
        return e.getMessage();
    }
}
