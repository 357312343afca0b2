package org.jtarget.iscsi.internal.text;

/** How a key's value is negotiated (RFC 7143 §6.2 and §13). */
public enum KeyKind {
    /** The responder picks the first value of the offered list it supports (§6.2.1). */
    LIST,
    /** Boolean, result is the AND of both values (§6.2.2). */
    BOOLEAN_AND,
    /** Boolean, result is the OR of both values (§6.2.2). */
    BOOLEAN_OR,
    /** Numerical, result is the smaller value (§6.2.2). */
    NUMBER_MIN,
    /** Numerical, result is the larger value (§6.2.2). */
    NUMBER_MAX,
    /** Declarative numerical: each side states its own value, nothing is answered (§6.2, e.g. §13.12). */
    DECLARATIVE_NUMBER
}
