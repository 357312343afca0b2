package org.jtarget.backstore.s3.internal;

import java.io.IOException;

/**
 * A failed S3 request: the HTTP status and the S3 error code from the body ({@code <Code>NoSuchBucket</Code>}),
 * or status 0 when no answer came (connection refused, timeout). Messages never contain credentials.
 */
final class S3Exception extends IOException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String code;

    S3Exception(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code == null ? "" : code;
    }

    S3Exception(String message, Throwable cause) {
        super(message, cause);
        this.status = 0;
        this.code = "";
    }

    int status() {
        return status;
    }

    String code() {
        return code;
    }

    /** Worth retrying: no answer, a 5xx (incl. 503 SlowDown), 429, or a 400 RequestTimeout. */
    boolean retryable() {
        return status == 0 || status >= 500 || status == 429 || "RequestTimeout".equals(code)
                || "SlowDown".equals(code);
    }

    /** The server refused our credentials (unknown key, wrong signature, access denied). */
    boolean credentialsRefused() {
        return status == 403 || "InvalidAccessKeyId".equals(code) || "SignatureDoesNotMatch".equals(code);
    }
}
