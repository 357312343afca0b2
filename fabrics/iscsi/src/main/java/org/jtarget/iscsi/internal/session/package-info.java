/** iSCSI fabric internals: session (RFC 7143). */
package org.jtarget.iscsi.internal.session;
