/** iSCSI fabric internals: pdu (RFC 7143). */
package org.jtarget.iscsi.internal.pdu;
