package org.jtarget.iscsi.internal.text;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Negotiates operational keys for one login (RFC 7143 §6.2, §13). Starts from the RFC defaults; this target's
 * preferences come from {@link OperationalKey#preferred()} overridden by TPG parameters of the same names.
 * {@link #respond} answers one offered key and records the result.
 */
public final class Negotiator {
    /** Key values that answer rather than offer (§6.2): never negotiated further. */
    private static final Set<String> ANSWERS = Set.of("NotUnderstood", "Irrelevant", "Reject");

    private final Map<OperationalKey, String> ours = new EnumMap<>(OperationalKey.class);
    private final Map<OperationalKey, String> result = new EnumMap<>(OperationalKey.class);

    /**
     * @param tpgParameters TPG parameters; those naming an operational key replace our preference when valid
     * @param warn          told about invalid TPG parameters, which are ignored
     */
    public Negotiator(Map<String, String> tpgParameters, Consumer<String> warn) {
        for (OperationalKey k : OperationalKey.values()) {
            ours.put(k, k.preferred());
            result.put(k, k.rfcDefault());
        }
        tpgParameters.forEach((name, value) -> {
            OperationalKey k = OperationalKey.forKey(name);
            if (k != null) {
                String problem = k.validate(value);
                if (problem == null) {
                    ours.put(k, value);
                } else {
                    warn.accept("TPG parameter ignored: " + problem);
                }
            }
        });
    }

    /** Our value of a key (a list for LIST keys). */
    public String ours(OperationalKey key) {
        return ours.get(key);
    }

    /**
     * Answers an offer and records the outcome.
     *
     * @return the value to send back, or null when nothing is sent (declarative keys, answers)
     */
    public String respond(OperationalKey key, String offered) {
        if (ANSWERS.contains(offered)) {
            return null;
        }
        String problem = key.validate(offered);
        if (problem != null) {
            return "Reject";
        }
        String mine = ours.get(key);
        String answer;
        switch (key.kind()) {
            case LIST: {
                List<String> acceptable = Arrays.asList(mine.split(","));
                answer = Arrays.stream(offered.split(",")).filter(acceptable::contains).findFirst().orElse("Reject");
                if (!answer.equals("Reject")) {
                    result.put(key, answer);
                }
                return answer;
            }
            case BOOLEAN_AND:
                answer = offered.equals("Yes") && mine.equals("Yes") ? "Yes" : "No";
                break;
            case BOOLEAN_OR:
                answer = offered.equals("Yes") || mine.equals("Yes") ? "Yes" : "No";
                break;
            case NUMBER_MIN:
                answer = Long.toString(Math.min(OperationalKey.parseNumber(offered), OperationalKey.parseNumber(mine)));
                break;
            case NUMBER_MAX:
                answer = Long.toString(Math.max(OperationalKey.parseNumber(offered), OperationalKey.parseNumber(mine)));
                break;
            case DECLARATIVE_NUMBER:
                result.put(key, Long.toString(OperationalKey.parseNumber(offered)));
                return null;
            default:
                throw new AssertionError(key.kind());
        }
        result.put(key, answer);
        return answer;
    }

    /** The parameters now in force; FirstBurstLength is capped at MaxBurstLength (§13.14). */
    public SessionParameters parameters() {
        int maxBurst = number(OperationalKey.MAX_BURST_LENGTH);
        return new SessionParameters(
                result.get(OperationalKey.HEADER_DIGEST).equals("CRC32C"),
                result.get(OperationalKey.DATA_DIGEST).equals("CRC32C"),
                number(OperationalKey.MAX_CONNECTIONS),
                result.get(OperationalKey.INITIAL_R2T).equals("Yes"),
                result.get(OperationalKey.IMMEDIATE_DATA).equals("Yes"),
                number(OperationalKey.MAX_RECV_DATA_SEGMENT_LENGTH),
                (int) OperationalKey.parseNumber(ours.get(OperationalKey.MAX_RECV_DATA_SEGMENT_LENGTH)),
                maxBurst,
                Math.min(number(OperationalKey.FIRST_BURST_LENGTH), maxBurst),
                number(OperationalKey.DEFAULT_TIME2WAIT),
                number(OperationalKey.DEFAULT_TIME2RETAIN),
                number(OperationalKey.MAX_OUTSTANDING_R2T),
                result.get(OperationalKey.DATA_PDU_IN_ORDER).equals("Yes"),
                result.get(OperationalKey.DATA_SEQUENCE_IN_ORDER).equals("Yes"),
                number(OperationalKey.ERROR_RECOVERY_LEVEL));
    }

    private int number(OperationalKey key) {
        return (int) OperationalKey.parseNumber(result.get(key));
    }

    @Override
    public String toString() {
        return result.entrySet().stream().map(e -> e.getKey().key() + "=" + e.getValue())
                .collect(Collectors.joining(", ", "Negotiator[", "]"));
    }
}
