/**
 * The configuration store: the object tree saved as one versioned JSON document,
 * {@code <home>/conf/jtarget.json}, written atomically after every change and restored at start.
 */
package org.jtarget.config.internal;
