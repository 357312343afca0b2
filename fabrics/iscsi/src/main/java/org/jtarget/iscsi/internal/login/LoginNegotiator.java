package org.jtarget.iscsi.internal.login;

import io.netty.buffer.ByteBuf;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.jtarget.iscsi.internal.pdu.LoginRequest;
import org.jtarget.iscsi.internal.text.Negotiator;
import org.jtarget.iscsi.internal.text.OperationalKey;
import org.jtarget.iscsi.internal.text.SessionParameters;
import org.jtarget.iscsi.internal.text.TextCodec;
import org.jtarget.spi.fabric.ChapCredentials;
import org.jtarget.spi.fabric.InitiatorAccess;
import org.jtarget.spi.fabric.NetworkText;
import org.jtarget.spi.fabric.TargetCore;
import org.jtarget.spi.fabric.TpgEndpoint;

/**
 * The login phase of one connection (RFC 7143 §6.3, §11.12-13): the security stage (AuthMethod None or CHAP,
 * §12.1.3), the operational stage ({@link Negotiator}) and the move to the full feature phase. Feed each Login
 * Request to {@link #process}; it answers with a {@link LoginReply}. Not thread-safe (one event loop).
 * Authentication failures go through the fabric's {@link LoginGuard}: counted by its {@link LoginThrottle}
 * (an initiator or address that keeps failing is refused for a while, with the same AUTHENTICATION_FAILURE
 * a wrong secret gets) and logged through its {@link LogLimiter}, every network value escaped
 * ({@link NetworkText}). No secret is ever logged or sent.
 */
public final class LoginNegotiator {
    public static final int SECURITY = 0;
    public static final int OPERATIONAL = 1;
    public static final int FULL_FEATURE = 3;

    /** Keys that belong to the login itself, not to operational negotiation. */
    private static final Set<String> LOGIN_KEYS = Set.of("InitiatorName", "InitiatorAlias", "TargetName",
            "SessionType", "AuthMethod", "CHAP_A", "CHAP_N", "CHAP_R", "CHAP_I", "CHAP_C");

    private enum ChapState {
        NONE, WAIT_ALGORITHM, WAIT_RESPONSE, DONE
    }

    private final TargetCore core;
    private final String fabric;
    private final InetSocketAddress local;
    private final InetAddress peer;
    private final SecureRandom random;
    private final LoginGuard guard;
    private final Consumer<String> warn;
    private long failureDelayNanos;

    private boolean started;
    private boolean first = true;
    private int stage = SECURITY;
    private boolean authenticated;
    private boolean authMethodChosen;
    private ChapState chap = ChapState.NONE;
    private int chapId;
    private byte[] chapChallenge;
    private boolean declaredMaxRecv;
    private byte[] continued = new byte[0];

    private String initiatorName;
    private boolean discovery;
    private TpgEndpoint tpg;
    private InitiatorAccess access;
    private Negotiator negotiator;
    private long isid;
    private int tsih;
    private int cid;
    private int initialCmdSn;

    /** A negotiator with a guard of its own (tests): failures are logged to {@code warn}, unlimited peers. */
    public LoginNegotiator(TargetCore core, String fabric, InetSocketAddress local, SecureRandom random,
                           Consumer<String> warn) {
        this(core, fabric, local, null, random, LoginGuard.of(System::nanoTime, warn), warn);
    }

    /**
     * @param peer  the initiator's address (null when unknown), for the throttle
     * @param guard the fabric's throttle and login log
     * @param warn  told about invalid TPG parameters
     */
    public LoginNegotiator(TargetCore core, String fabric, InetSocketAddress local, InetAddress peer,
                           SecureRandom random, LoginGuard guard, Consumer<String> warn) {
        this.core = core;
        this.fabric = fabric;
        this.local = local;
        this.peer = peer;
        this.random = random;
        this.guard = guard;
        this.warn = warn;
    }

    public LoginReply process(LoginRequest request) {
        if (!started) { // the first request, even when its text continues in the next one (§11.12.2)
            started = true;
            if (request.versionMin() > 0) { // §11.12.4: we speak version 0 only
                return fail(request, LoginStatus.UNSUPPORTED_VERSION, "Version-min " + request.versionMin());
            }
            isid = request.isid();
            tsih = request.tsih();
            cid = request.cid();
            initialCmdSn = request.cmdSn();
        } else if (request.isid() != isid || request.tsih() != tsih || request.cid() != cid) {
            return fail(request, LoginStatus.INITIATOR_ERROR, "ISID, TSIH or CID changed during login");
        }
        ByteBuf data = request.data();
        byte[] bytes = new byte[continued.length + data.readableBytes()];
        System.arraycopy(continued, 0, bytes, 0, continued.length);
        data.getBytes(data.readerIndex(), bytes, continued.length, data.readableBytes());
        if (request.continueFlag()) { // §11.12.2: more text follows; acknowledge with an empty response
            if (bytes.length > 65536) {
                return fail(request, LoginStatus.INITIATOR_ERROR, "login text longer than 65536 bytes");
            }
            continued = bytes;
            return new LoginReply(false, request.csg(), request.nsg(), LoginStatus.SUCCESS, List.of(), false);
        }
        continued = new byte[0];
        Map<String, String> keys;
        try {
            keys = TextCodec.parse(io.netty.buffer.Unpooled.wrappedBuffer(bytes));
        } catch (TextCodec.TextFormatException e) {
            return fail(request, LoginStatus.INITIATOR_ERROR, e.getMessage());
        }
        List<Map.Entry<String, String>> answer = new ArrayList<>();
        if (first) {
            first = false;
            LoginReply failure = identify(request, keys, answer);
            if (failure != null) {
                return failure;
            }
        }
        if (request.csg() < stage || request.csg() == 2 || request.csg() == FULL_FEATURE) {
            return fail(request, LoginStatus.INVALID_DURING_LOGIN, "CSG " + request.csg() + " in stage " + stage);
        }
        if (request.transit() && (request.nsg() <= request.csg() || request.nsg() == 2)) {
            return fail(request, LoginStatus.INITIATOR_ERROR, "transit from CSG " + request.csg() + " to NSG "
                    + request.nsg());
        }
        if (request.csg() == SECURITY) {
            LoginReply failure = security(request, keys, answer);
            if (failure != null) {
                return failure;
            }
        } else {
            if (!authenticated) { // the initiator skipped the security stage (§6.3)
                if (access.chapRequired()) {
                    return fail(request, LoginStatus.AUTHENTICATION_FAILURE, "CHAP required but security stage skipped");
                }
                LoginReply refused = grant(request, false);
                if (refused != null) {
                    return refused;
                }
            }
            stage = OPERATIONAL;
        }
        operational(keys, answer);
        if (request.csg() == OPERATIONAL && !declaredMaxRecv && !answers(answer, "MaxRecvDataSegmentLength")) {
            // Declarative (§13.12): the initiator must know how much we accept. When this response already
            // rejects the initiator's own declaration, ours waits for the next one (§6.1: a key at most once
            // per text); without a next one the initiator keeps the default 8192, which we accept.
            answer.add(entry("MaxRecvDataSegmentLength", negotiator.ours(OperationalKey.MAX_RECV_DATA_SEGMENT_LENGTH)));
            declaredMaxRecv = true;
        }
        boolean transit = request.transit() && authenticated;
        if (transit) {
            stage = request.nsg();
        }
        return new LoginReply(transit, request.csg(), transit ? request.nsg() : request.csg(), LoginStatus.SUCCESS,
                answer, transit && request.nsg() == FULL_FEATURE);
    }

    /** First request: who is logging in to what (§6.3.1, §13.4-13.6, §13.21). */
    private LoginReply identify(LoginRequest request, Map<String, String> keys, List<Map.Entry<String, String>> answer) {
        initiatorName = keys.get("InitiatorName");
        if (initiatorName == null || initiatorName.isEmpty()) {
            return fail(request, LoginStatus.MISSING_PARAMETER, "no InitiatorName");
        }
        String type = keys.getOrDefault("SessionType", "Normal");
        if (!type.equals("Normal") && !type.equals("Discovery")) {
            return fail(request, LoginStatus.SESSION_TYPE_NOT_SUPPORTED, "SessionType " + NetworkText.quote(type));
        }
        discovery = type.equals("Discovery");
        Map<String, String> tpgParameters = Map.of();
        if (discovery) {
            access = InitiatorAccess.OPEN;
        } else {
            String targetName = keys.get("TargetName");
            if (targetName == null || targetName.isEmpty()) {
                return fail(request, LoginStatus.MISSING_PARAMETER, "no TargetName");
            }
            Optional<TpgEndpoint> found = core.lookup(fabric, targetName, local);
            if (found.isEmpty()) {
                return fail(request, LoginStatus.NOT_FOUND, "no target " + NetworkText.quote(targetName) + " on " + local);
            }
            tpg = found.get();
            Optional<InitiatorAccess> allowed = tpg.access(initiatorName);
            if (allowed.isEmpty()) {
                return fail(request, LoginStatus.AUTHORIZATION_FAILURE, "not allowed into "
                        + NetworkText.quote(targetName));
            }
            access = allowed.get();
            tpgParameters = tpg.parameters();
            // §13.9: the first Login Response of a normal session carries TargetPortalGroupTag.
            answer.add(entry("TargetPortalGroupTag", Integer.toString(tpg.tag())));
        }
        negotiator = new Negotiator(tpgParameters, warn);
        return null;
    }

    private LoginReply security(LoginRequest request, Map<String, String> keys, List<Map.Entry<String, String>> answer) {
        String offered = keys.get("AuthMethod");
        if (offered != null && !authMethodChosen) {
            List<String> methods = Arrays.asList(offered.split(","));
            boolean canChap = access.chap().isPresent();
            String choice;
            if (access.chapRequired()) {
                choice = methods.contains("CHAP") && canChap ? "CHAP" : null;
            } else if (methods.contains("None")) {
                choice = "None";
            } else {
                choice = methods.contains("CHAP") && canChap ? "CHAP" : null;
            }
            if (choice == null) {
                answer.add(entry("AuthMethod", "Reject"));
                return fail(request, LoginStatus.AUTHENTICATION_FAILURE, "AuthMethod " + NetworkText.quote(offered) + " (expected: "
                        + (access.chapRequired() ? "CHAP" : "None") + ")", answer);
            }
            answer.add(entry("AuthMethod", choice));
            authMethodChosen = true;
            if (choice.equals("None")) {
                LoginReply refused = grant(request, false);
                if (refused != null) {
                    return refused;
                }
            } else {
                chap = ChapState.WAIT_ALGORITHM;
            }
        }
        if (keys.containsKey("CHAP_A")) {
            if (chap != ChapState.WAIT_ALGORITHM) {
                return fail(request, LoginStatus.AUTHENTICATION_FAILURE, "CHAP_A out of order");
            }
            if (!Arrays.asList(keys.get("CHAP_A").split(",")).contains(Chap.MD5)) {
                answer.add(entry("CHAP_A", "Reject"));
                return fail(request, LoginStatus.AUTHENTICATION_FAILURE, "CHAP_A " + NetworkText.quote(keys.get("CHAP_A"))
                        + " (expected: a list with 5, MD5)", answer);
            }
            chapId = random.nextInt(256);
            chapChallenge = new byte[16];
            random.nextBytes(chapChallenge);
            answer.add(entry("CHAP_A", Chap.MD5));
            answer.add(entry("CHAP_I", Integer.toString(chapId)));
            answer.add(entry("CHAP_C", Chap.encode(chapChallenge)));
            chap = ChapState.WAIT_RESPONSE;
        } else if (keys.containsKey("CHAP_N") || keys.containsKey("CHAP_R")) {
            LoginReply failure = verifyChap(request, keys, answer);
            if (failure != null) {
                return failure;
            }
        }
        if (request.transit() && !authenticated) {
            if (!authMethodChosen && !access.chapRequired()) {
                LoginReply refused = grant(request, false); // no AuthMethod offered: None by default will do
                if (refused != null) {
                    return refused;
                }
            } else if (!authMethodChosen || chap == ChapState.WAIT_RESPONSE) {
                return fail(request, LoginStatus.AUTHENTICATION_FAILURE, "transit before authentication");
            }
        }
        return null;
    }

    private LoginReply verifyChap(LoginRequest request, Map<String, String> keys, List<Map.Entry<String, String>> answer) {
        if (chap != ChapState.WAIT_RESPONSE) {
            return fail(request, LoginStatus.AUTHENTICATION_FAILURE, "CHAP_N/CHAP_R before a challenge");
        }
        ChapCredentials credentials = access.chap().orElseThrow();
        String problem = credentials.problem();
        if (problem != null) { // a hand-edited configuration: RFC 7143 §9.2.1 forbids using such secrets
            return refuse(request, "the ACL's CHAP credentials are unusable: " + problem);
        }
        String name = keys.get("CHAP_N");
        String response = keys.get("CHAP_R");
        if (name == null || response == null) {
            return fail(request, LoginStatus.AUTHENTICATION_FAILURE, "CHAP_N and CHAP_R must come together");
        }
        byte[] received;
        try {
            received = Chap.decode(response);
        } catch (IllegalArgumentException e) {
            return fail(request, LoginStatus.AUTHENTICATION_FAILURE, e.getMessage());
        }
        byte[] expected = Chap.response(chapId, credentials.secret(), chapChallenge);
        if (!Chap.matches(name, credentials.user(), received, expected)) {
            return fail(request, LoginStatus.AUTHENTICATION_FAILURE, "CHAP_N " + NetworkText.quote(name)
                    + ": wrong name or secret");
        }
        String initiatorId = keys.get("CHAP_I");
        String initiatorChallenge = keys.get("CHAP_C");
        if ((initiatorId == null) != (initiatorChallenge == null)) {
            return fail(request, LoginStatus.AUTHENTICATION_FAILURE, "mutual CHAP needs both CHAP_I and CHAP_C");
        }
        if (initiatorId != null) {
            if (!credentials.mutual()) {
                return fail(request, LoginStatus.AUTHENTICATION_FAILURE, "mutual CHAP asked but not configured");
            }
            int id;
            byte[] challenge;
            try {
                id = Chap.parseIdentifier(initiatorId);
                challenge = Chap.decode(initiatorChallenge);
            } catch (IllegalArgumentException e) {
                return fail(request, LoginStatus.AUTHENTICATION_FAILURE, e.getMessage());
            }
            if (challenge.length == 0 || Arrays.equals(challenge, chapChallenge)) { // §12.1.3: reflection attack
                return fail(request, LoginStatus.AUTHENTICATION_FAILURE, "initiator CHAP_C repeats ours or is empty");
            }
            answer.add(entry("CHAP_N", credentials.mutualUser()));
            answer.add(entry("CHAP_R", Chap.encode(
                    Chap.response(id, credentials.mutualSecret(), challenge))));
        }
        LoginReply refused = grant(request, true);
        if (refused != null) {
            return refused;
        }
        chap = ChapState.DONE;
        return null;
    }

    /**
     * The initiator is authenticated, unless the throttle blocks its name or address: then the login fails
     * as if the secret were wrong (RFC 7143 §9.2.1 guessing defence) and the attempt counts for nothing.
     * A proven CHAP secret clears the throttle's record of the name and address; None proves nothing.
     */
    private LoginReply grant(LoginRequest request, boolean provedSecret) {
        if (guard.throttle().blocked(initiatorName, peer)) {
            return refuse(request, "refused: repeated failures from this initiator or address");
        }
        if (provedSecret) {
            guard.throttle().succeeded(initiatorName, peer);
        }
        authenticated = true;
        return null;
    }

    private void operational(Map<String, String> keys, List<Map.Entry<String, String>> answer) {
        for (Map.Entry<String, String> e : keys.entrySet()) {
            String key = e.getKey();
            if (LOGIN_KEYS.contains(key)) {
                continue;
            }
            OperationalKey known = OperationalKey.forKey(key);
            if (known != null) {
                String value = negotiator.respond(known, e.getValue());
                if (value != null) {
                    answer.add(entry(key, value));
                }
            } else if (key.equals("OFMarkInt") || key.equals("IFMarkInt")) {
                answer.add(entry(key, "Irrelevant")); // markers are off (RFC 3720 §A.3.2)
            } else if (!e.getValue().equals("NotUnderstood") && !e.getValue().equals("Irrelevant")) {
                answer.add(entry(key, "NotUnderstood")); // §6.2
            }
        }
    }

    private static boolean answers(List<Map.Entry<String, String>> answer, String key) {
        return answer.stream().anyMatch(e -> e.getKey().equals(key));
    }

    private LoginReply fail(LoginRequest request, LoginStatus status, String why) {
        return fail(request, status, why, List.of());
    }

    /**
     * A failed login; {@code answer} carries keys worth telling the initiator (e.g. AuthMethod=Reject).
     * Authentication and authorization failures count for the throttle. {@code why} has its network values
     * escaped already.
     */
    private LoginReply fail(LoginRequest request, LoginStatus status, String why,
                            List<Map.Entry<String, String>> answer) {
        if (status == LoginStatus.AUTHENTICATION_FAILURE || status == LoginStatus.AUTHORIZATION_FAILURE) {
            guard.throttle().failed(initiatorName, peer);
        }
        return failed(request, status, why, answer);
    }

    /** AUTHENTICATION_FAILURE that does not count for the throttle (throttled, or unusable configuration). */
    private LoginReply refuse(LoginRequest request, String why) {
        return failed(request, LoginStatus.AUTHENTICATION_FAILURE, why, List.of());
    }

    private LoginReply failed(LoginRequest request, LoginStatus status, String why,
                              List<Map.Entry<String, String>> answer) {
        if (status == LoginStatus.AUTHENTICATION_FAILURE || status == LoginStatus.AUTHORIZATION_FAILURE) {
            failureDelayNanos = guard.throttle().responseDelayNanos(initiatorName, peer);
        }
        guard.log().log(status.name(), "login of " + NetworkText.quote(initiatorName) + " from "
                + (peer == null ? "?" : peer.getHostAddress()) + " failed: " + status + ": " + why);
        return new LoginReply(false, request.csg(), request.nsg(), status, List.copyOf(answer), false);
    }

    /**
     * How long the connection should hold back the response of the failed login before sending it
     * (see {@link LoginThrottle#responseDelayNanos}); 0 when it failed otherwise or not at all.
     */
    public long failureDelayNanos() {
        return failureDelayNanos;
    }

    private static Map.Entry<String, String> entry(String key, String value) {
        return new SimpleImmutableEntry<>(key, value);
    }

    public String initiatorName() {
        return initiatorName;
    }

    public boolean discovery() {
        return discovery;
    }

    /** The TPG logged in to; null for discovery sessions. */
    public TpgEndpoint tpg() {
        return tpg;
    }

    public long isid() {
        return isid;
    }

    /** The TSIH of the first request: 0 for a new session. */
    public int requestedTsih() {
        return tsih;
    }

    public int cid() {
        return cid;
    }

    /** The CmdSN of the first Login Request: the first CmdSN of the session (§11.12.6). */
    public int initialCmdSn() {
        return initialCmdSn;
    }

    public SessionParameters parameters() {
        return negotiator.parameters();
    }
}
