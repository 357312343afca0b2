package org.jtarget.systests.fuzz;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.jtarget.systests.wire.IscsiClient;
import org.jtarget.systests.wire.IscsiClient.Pdu;

/**
 * A login sequence (RFC 7143 §6.3, §11.12) that starts valid and goes wrong: AuthMethod None (security stage,
 * then operational stage to the full feature phase) or CHAP (§12.1.3: AuthMethod, CHAP_A, CHAP_N/CHAP_R with the
 * right answer one time in two, mutual CHAP_I/CHAP_C sometimes, then the operational stage). Each step may get
 * wrong stage bits, a changed ISID/TSIH/CID/ITT/CmdSN/version, a text mutation, a byte mutation or a split into
 * continuation PDUs (C bit). The step's Login Response is awaited for {@link #ANSWER_WAIT}; a failed status, no
 * answer or a closed connection ends the sequence.
 */
final class LoginFuzz extends FuzzConnection {
    static final Duration ANSWER_WAIT = Duration.ofSeconds(1);

    private final NetworkFuzzer.Config config;
    private final boolean chap;
    private final long isid;
    private int tsih;
    private final int cid;
    private int itt;
    private int cmdSn;

    LoginFuzz(IscsiClient client, SplittableRandom random, FuzzCounts counts, NetworkFuzzer.Config config,
              boolean chap) {
        super(client, random, counts);
        this.config = config;
        this.chap = chap;
        this.isid = NetworkFuzzer.isid(random);
        this.tsih = random.nextInt(10) == 0 ? random.nextInt(1 << 16) : 0;
        this.cid = random.nextInt(8) == 0 ? random.nextInt(1 << 16) : 1;
        this.itt = random.nextInt();
        this.cmdSn = random.nextInt();
    }

    @Override
    void run() throws IOException {
        Pdu answer = step(0, 1, !chap, identity());
        if (chap) {
            answer = answer == null ? null : step(0, 1, false, List.of("CHAP_A=" + pick("5", "5", "5", "7,5", "7",
                    "", "5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5", "0x5", "-5")));
            answer = answer == null ? null : step(0, 1, true, chapResponse(answer));
        }
        answer = answer == null ? null : step(1, 3, true, IscsiClient.OPERATIONAL);
        if (answer != null && random.nextInt(5) == 0) { // a Login Request in the full feature phase (§6.3)
            step(random.nextInt(4), random.nextInt(4), random.nextBoolean(), identity());
        }
        drainEnd();
    }

    private List<String> identity() {
        List<String> keys = new ArrayList<>();
        keys.add("InitiatorName=" + (chap && random.nextInt(4) > 0 ? config.chapInitiator()
                : NetworkFuzzer.initiatorName(random)));
        boolean discovery = random.nextInt(10) == 0;
        keys.add("SessionType=" + (discovery ? "Discovery" : "Normal"));
        if (!discovery) {
            String target = chap ? config.chapTarget() : config.target();
            keys.add("TargetName=" + (random.nextInt(20) == 0 ? pick("iqn.2026-12.org.example:no-such-target",
                    config.chapTarget(), config.target(), "iqn.", "") : target));
        }
        keys.add("AuthMethod=" + (chap ? pick("CHAP", "CHAP", "CHAP", "None,CHAP", "CHAP,None", "KRB5,SRP,CHAP",
                "None") : pick("None", "None", "None", "CHAP,None", "CHAP", "SRP", "")));
        return keys;
    }

    /** CHAP_N and CHAP_R for the challenge in {@code answer}: right one time in two, else wrong in some way. */
    private List<String> chapResponse(Pdu answer) {
        Map<String, String> keys = answer.keys();
        List<String> out = new ArrayList<>();
        String user = random.nextInt(8) == 0 ? "someone-else" : config.chapUser();
        String response;
        try {
            byte[] r = IscsiClient.chapResponse(Integer.parseInt(keys.getOrDefault("CHAP_I", "0")),
                    random.nextInt(8) == 0 ? "wrongSecret-0123" : config.chapSecret(),
                    HexFormat.of().parseHex(keys.getOrDefault("CHAP_C", "0x").substring(2)));
            response = random.nextBoolean() ? "0x" + HexFormat.of().formatHex(r)
                    : pick("0x", "0x00", "0x" + "00".repeat(16), "0b" + java.util.Base64.getEncoder().encodeToString(r),
                    "0x" + HexFormat.of().formatHex(mutator.bytes(random.nextInt(1, 300))), "zz", "");
        } catch (RuntimeException e) { // no or a malformed challenge: answer anything
            response = "0x" + HexFormat.of().formatHex(mutator.bytes(16));
        }
        out.add("CHAP_N=" + user);
        out.add("CHAP_R=" + response);
        if (random.nextInt(3) == 0) { // mutual CHAP: our identifier and challenge
            out.add("CHAP_I=" + pick("7", "255", "256", "-1", "x"));
            out.add("CHAP_C=" + pick("0x" + HexFormat.of().formatHex(mutator.bytes(16)), "0x", "0x"
                    + keys.getOrDefault("CHAP_C", "0x").substring(2), "0x" + "ab".repeat(1024)));
        }
        return out;
    }

    /**
     * Sends one login step (maybe mutated) and awaits its Login Response: null when none came or the status is
     * not success (the target then closes the connection, RFC 7143 §11.13.5).
     */
    private Pdu step(int csg, int nsg, boolean transit, List<String> keys) throws IOException {
        boolean cont = false;
        int versionMax = 0;
        int versionMin = 0;
        byte[] text = IscsiClient.text(keys);
        String kind = "login";
        switch (random.nextInt(20)) {
            case 0 -> { // stage bits out of the sequence (§11.12.3: CSG/NSG 2 is reserved)
                csg = random.nextInt(4);
                nsg = random.nextInt(4);
                transit = random.nextBoolean();
                kind = "login wrong stage";
            }
            case 1 -> { // session identity changed in mid-login, or a random TSIH (§11.12.5)
                switch (random.nextInt(4)) {
                    case 0 -> tsih = random.nextInt(1 << 16);
                    case 1 -> itt = random.nextInt();
                    case 2 -> cmdSn = random.nextInt();
                    default -> {
                        versionMax = random.nextInt(256);
                        versionMin = random.nextInt(256);
                    }
                }
                kind = "login changed field";
            }
            case 2, 3, 4 -> {
                text = mutator.mutateText(keys);
                kind = "login mutated text";
            }
            case 5 -> kind = "login mutated";
            case 6 -> cont = true;
            default -> { }
        }
        if (cont && text.length > 1) { // §11.12.2: text split over PDUs with the C bit, each acknowledged
            int cut = random.nextInt(1, text.length);
            send("login continued", login(false, true, csg, nsg, versionMax, versionMin,
                    java.util.Arrays.copyOf(text, cut)));
            Pdu ack = await(ANSWER_WAIT);
            if (ack == null || ack.loginStatus() != 0) {
                return null;
            }
            text = java.util.Arrays.copyOfRange(text, cut, text.length);
        }
        byte[] pdu = login(transit, false, csg, nsg, versionMax, versionMin, text);
        send(kind, kind.equals("login mutated") ? mutator.mutate(pdu) : pdu);
        Pdu answer = await(ANSWER_WAIT);
        return answer != null && answer.opcode() == 0x23 && answer.loginStatus() == 0 ? answer : null;
    }

    private byte[] login(boolean transit, boolean cont, int csg, int nsg, int versionMax, int versionMin, byte[] text) {
        ByteBuffer b = IscsiClient.bhs(0x43, (transit ? 0x80 : 0) | (cont ? 0x40 : 0) | csg << 2 | nsg, 0);
        b.put(2, (byte) versionMax);
        b.put(3, (byte) versionMin);
        b.putShort(8, (short) (isid >>> 32));
        b.putInt(10, (int) isid);
        b.putShort(14, (short) tsih);
        b.putInt(16, itt);
        b.putShort(20, (short) cid);
        b.putInt(24, cmdSn);
        b.putInt(28, client.expStatSn());
        return IscsiClient.frame(b, text);
    }

    private String pick(String... choices) {
        return choices[random.nextInt(choices.length)];
    }
}
