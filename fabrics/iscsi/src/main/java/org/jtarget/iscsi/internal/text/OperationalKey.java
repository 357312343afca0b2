package org.jtarget.iscsi.internal.text;

import java.util.Set;

/**
 * The operational keys this target negotiates (RFC 7143 §13), with their RFC defaults and ranges, and the
 * value this target prefers unless a TPG parameter overrides it.
 */
public enum OperationalKey {
    HEADER_DIGEST("HeaderDigest", KeyKind.LIST, "None", "CRC32C,None", 0, 0, Set.of("None", "CRC32C")), // §13.1
    DATA_DIGEST("DataDigest", KeyKind.LIST, "None", "CRC32C,None", 0, 0, Set.of("None", "CRC32C")),
    MAX_CONNECTIONS("MaxConnections", KeyKind.NUMBER_MIN, "1", "1", 1, 65535, null), // §13.2
    INITIAL_R2T("InitialR2T", KeyKind.BOOLEAN_OR, "Yes", "No", 0, 0, null), // §13.10
    IMMEDIATE_DATA("ImmediateData", KeyKind.BOOLEAN_AND, "Yes", "Yes", 0, 0, null), // §13.11
    MAX_RECV_DATA_SEGMENT_LENGTH("MaxRecvDataSegmentLength", KeyKind.DECLARATIVE_NUMBER, "8192", "262144", 512,
            16777215, null), // §13.12
    // §13.13; as large as Linux open-iscsi offers: a large write needs one R2T round trip, not one per MiB
    // (the data is gathered in full before the write either way). FirstBurstLength stays small: unsolicited
    // data arrives unasked, up to a window of commands at once.
    MAX_BURST_LENGTH("MaxBurstLength", KeyKind.NUMBER_MIN, "262144", "16776192", 512, 16777215, null),
    FIRST_BURST_LENGTH("FirstBurstLength", KeyKind.NUMBER_MIN, "65536", "262144", 512, 16777215, null), // §13.14
    DEFAULT_TIME2WAIT("DefaultTime2Wait", KeyKind.NUMBER_MAX, "2", "2", 0, 3600, null), // §13.15
    DEFAULT_TIME2RETAIN("DefaultTime2Retain", KeyKind.NUMBER_MIN, "20", "20", 0, 3600, null), // §13.16
    MAX_OUTSTANDING_R2T("MaxOutstandingR2T", KeyKind.NUMBER_MIN, "1", "1", 1, 65535, null), // §13.17
    DATA_PDU_IN_ORDER("DataPDUInOrder", KeyKind.BOOLEAN_OR, "Yes", "Yes", 0, 0, null), // §13.18
    DATA_SEQUENCE_IN_ORDER("DataSequenceInOrder", KeyKind.BOOLEAN_OR, "Yes", "Yes", 0, 0, null), // §13.19
    ERROR_RECOVERY_LEVEL("ErrorRecoveryLevel", KeyKind.NUMBER_MIN, "0", "0", 0, 2, null), // §13.20
    // Markers were removed by RFC 7143 (§13, appendix); RFC 3720 initiators still offer them.
    IF_MARKER("IFMarker", KeyKind.BOOLEAN_AND, "No", "No", 0, 0, null),
    OF_MARKER("OFMarker", KeyKind.BOOLEAN_AND, "No", "No", 0, 0, null);

    private final String key;
    private final KeyKind kind;
    private final String rfcDefault;
    private final String preferred;
    private final long min;
    private final long max;
    private final Set<String> values;

    OperationalKey(String key, KeyKind kind, String rfcDefault, String preferred, long min, long max,
                   Set<String> values) {
        this.key = key;
        this.kind = kind;
        this.rfcDefault = rfcDefault;
        this.preferred = preferred;
        this.min = min;
        this.max = max;
        this.values = values;
    }

    public String key() {
        return key;
    }

    public KeyKind kind() {
        return kind;
    }

    /** The value in force when neither side negotiates the key. */
    public String rfcDefault() {
        return rfcDefault;
    }

    /** This target's value (a list of acceptable values for LIST keys) unless the TPG overrides it. */
    public String preferred() {
        return preferred;
    }

    public long min() {
        return min;
    }

    public long max() {
        return max;
    }

    /** The values a LIST key knows, or null. */
    public Set<String> allowedValues() {
        return values;
    }

    /** Checks a value of this key: null if valid, else why not. */
    public String validate(String value) {
        switch (kind) {
            case LIST:
                for (String v : value.split(",", -1)) {
                    if (!values.contains(v)) {
                        return key + ": " + value + " (expected: a list of " + values + ")";
                    }
                }
                return null;
            case BOOLEAN_AND:
            case BOOLEAN_OR:
                return value.equals("Yes") || value.equals("No") ? null : key + ": " + value + " (expected: Yes or No)";
            default:
                long n = parseNumber(value);
                return n >= min && n <= max ? null : key + ": " + value + " (expected: " + min + ".." + max + ")";
        }
    }

    /** The key for a name, or null. */
    public static OperationalKey forKey(String key) {
        for (OperationalKey k : values()) {
            if (k.key.equals(key)) {
                return k;
            }
        }
        return null;
    }

    /** Parses a decimal or 0x hex number (RFC 7143 §5.1 numerical values); -1 when not a number. */
    static long parseNumber(String value) {
        try {
            if (value.startsWith("0x") || value.startsWith("0X")) {
                return Long.parseLong(value.substring(2), 16);
            }
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
