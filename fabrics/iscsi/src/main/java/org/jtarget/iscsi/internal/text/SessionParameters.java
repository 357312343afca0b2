package org.jtarget.iscsi.internal.text;

/**
 * The operational parameters in force after login (RFC 7143 §13).
 *
 * @param initiatorMaxRecvDataSegmentLength the largest data segment we may send (the initiator's declaration)
 * @param targetMaxRecvDataSegmentLength    the largest data segment we accept (our declaration)
 */
public record SessionParameters(boolean headerDigest, boolean dataDigest, int maxConnections, boolean initialR2T,
                                boolean immediateData, int initiatorMaxRecvDataSegmentLength,
                                int targetMaxRecvDataSegmentLength, int maxBurstLength, int firstBurstLength,
                                int defaultTime2Wait, int defaultTime2Retain, int maxOutstandingR2T,
                                boolean dataPduInOrder, boolean dataSequenceInOrder, int errorRecoveryLevel) {
}
