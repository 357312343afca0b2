package org.jtarget.iscsi.internal.login;

import java.util.List;
import java.util.Map;

/**
 * What to answer one Login Request with; the connection adds the sequence numbers and TSIH.
 *
 * @param complete the login is over and the full feature phase begins with this response
 * @param status   anything but SUCCESS ends the login: the connection closes after sending it
 */
public record LoginReply(boolean transit, int csg, int nsg, LoginStatus status, List<Map.Entry<String, String>> keys,
                         boolean complete) {
    public boolean failed() {
        return status != LoginStatus.SUCCESS;
    }
}
