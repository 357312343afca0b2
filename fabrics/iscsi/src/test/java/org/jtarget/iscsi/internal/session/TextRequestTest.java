package org.jtarget.iscsi.internal.session;

import static org.jtarget.iscsi.internal.testing.TestInitiator.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jtarget.iscsi.internal.pdu.IscsiPdu;
import org.jtarget.iscsi.internal.pdu.Reject;
import org.jtarget.iscsi.internal.pdu.TextRequest;
import org.jtarget.iscsi.internal.pdu.TextResponse;
import org.jtarget.iscsi.internal.testing.FakeTargetCore;
import org.jtarget.iscsi.internal.testing.TestInitiator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Text Requests that are not a valid SendTargets (what libiscsi's iSCSISendTargets.Invalid sends): each gets
 * a final Text Response at once (F bit, TTT 0xffffffff, RFC 7143 §11.11), with the answer §6.2 and §13.3 ask.
 */
class TextRequestTest {
    private static final String TARGET = "iqn.2026-11.org.jtarget:unit";
    private final FakeTargetCore core = new FakeTargetCore();
    private final TestInitiator initiator = new TestInitiator(core, new SessionRegistry());

    {
        core.addTarget(TARGET, 1, TestInitiator.PORTAL, 8);
    }

    @AfterEach
    void close() {
        initiator.close();
    }

    private String ask(int itt, String pair) {
        initiator.send(new TextRequest(true, true, false, 0, itt, IscsiPdu.RESERVED_TAG, initiator.cmdSn, 0,
                text(pair)));
        TextResponse response = initiator.receive(TextResponse.class);
        try {
            assertEquals(itt, response.itt());
            assertTrue(response.finalFlag(), "F bit");
            assertFalse(response.continueFlag());
            assertEquals(IscsiPdu.RESERVED_TAG, response.ttt(), "§11.11.4: no more to fetch");
            return text(response.data());
        } finally {
            response.release();
        }
    }

    @Test
    void unknownAndMiscasedKeysAreNotUnderstood() {
        initiator.loginNormal(TARGET);
        // §6.2: a key the acceptor does not understand is answered key=NotUnderstood; §6.1: keys are
        // case-sensitive, so sENDtARGETS is an unknown key
        assertEquals("SendTargetsPlease=NotUnderstood\n", ask(70, "SendTargetsPlease=All"));
        assertEquals("sENDtARGETS=NotUnderstood\n", ask(71, "sENDtARGETS=aLL"));
    }

    @Test
    void sendTargetsOfATargetThatDoesNotExistAnswersNoTarget() {
        initiator.loginNormal(TARGET);
        // §13.3 / Appendix C: a value other than All or empty names a target; none is named so
        assertEquals("", ask(72, "SendTargets=Alle"));
        assertEquals("", ask(73, "SendTargets=A"));
        assertEquals("TargetName=" + TARGET + "\nTargetAddress=127.0.0.1:3260,1\n", ask(74, "SendTargets=All"),
                "the session still answers a valid request");
    }

    @Test
    void aNewRequestDropsTheUnfetchedRestOfTheLastLongAnswer() {
        // Bounded memory: a peer repeating SendTargets=All without fetching the rest holds one answer's rest.
        for (int i = 0; i < 40; i++) {
            core.addTarget("iqn.2026-11.org.jtarget:many-" + i, 1, TestInitiator.PORTAL, 1);
        }
        initiator.loginNormal(TARGET, "MaxRecvDataSegmentLength=512");
        int[] ttts = new int[2];
        for (int round = 0; round < 2; round++) {
            initiator.send(new TextRequest(true, true, false, 0, 60 + round, IscsiPdu.RESERVED_TAG, initiator.cmdSn,
                    0, text("SendTargets=All")));
            TextResponse first = initiator.receive(TextResponse.class);
            assertTrue(first.continueFlag(), "a long answer in pieces");
            ttts[round] = first.ttt();
            first.release();
        }
        initiator.send(new TextRequest(true, true, false, 0, 60, ttts[0], initiator.cmdSn, 0, null));
        Reject reject = initiator.receive(Reject.class);
        assertEquals(Reject.INVALID_PDU_FIELD, reject.reason(), "the first answer's rest is gone");
        reject.release();
        initiator.send(new TextRequest(true, true, false, 0, 61, ttts[1], initiator.cmdSn, 0, null));
        TextResponse next = initiator.receive(TextResponse.class);
        assertEquals(61, next.itt(), "the last answer's rest is still there");
        next.release();
    }
}
