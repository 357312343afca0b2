/** iSCSI fabric internals: text (RFC 7143). */
package org.jtarget.iscsi.internal.text;
