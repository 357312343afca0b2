/**
 * Asymmetric logical unit access (SPC-4 5.15): the target port groups of each logical unit with their
 * access states, the commands each state allows, and REPORT / SET TARGET PORT GROUPS.
 */
package org.jtarget.core.internal.alua;
