// SPDX-License-Identifier: GPL-2.0
/*
 * frame.c - frames built and checked by the net tests: network byte order,
 * the Internet checksum by the book (RFC 1071: one 16-bit word at a time,
 * folded at the end, a reference against pviod's optimised sums), the TCP
 * pseudo header, an Ethernet header with an optional 802.1Q tag.
 */
#include <string.h>

#include "pvtest.h"

/**
 * pvt_be16_put - store a 16-bit value in network byte order
 * @p: where
 * @v: the value (its low 16 bits)
 */
void pvt_be16_put(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/**
 * pvt_be16_get - a 16-bit value in network byte order
 * @p: where
 *
 * Return: the value.
 */
unsigned int pvt_be16_get(const uint8_t *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

/**
 * pvt_be32_get - a 32-bit value in network byte order
 * @p: where
 *
 * Return: the value.
 */
uint32_t pvt_be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/**
 * pvt_csum_add - add bytes to an Internet checksum, the reference way
 * @sum: the sum so far (0 to start)
 * @p: the bytes, taken as big-endian 16-bit words
 * @len: how many (an odd last byte is the high half of a word)
 *
 * Return: the unfolded sum; pvt_csum_fold() folds it.
 */
uint32_t pvt_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

/**
 * pvt_csum_fold - fold the carries of a pvt_csum_add() sum into 16 bits
 * @sum: the sum
 *
 * Return: the ones' complement sum (0xffff over data that holds its
 * correct checksum; its complement is the checksum to store).
 */
uint16_t pvt_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/**
 * pvt_tcp_pseudo_sum - the unfolded sum of a TCP segment's pseudo header
 * @ip: the IPv4 or IPv6 header (its addresses are taken from it)
 * @ipv6: which
 * @tcp_len: the TCP header and payload's length
 *
 * Return: a sum to go on with pvt_csum_add() over the TCP segment.
 */
uint32_t pvt_tcp_pseudo_sum(const uint8_t *ip, bool ipv6, size_t tcp_len)
{
	uint8_t ph[40] = { 0 };

	if (!ipv6) {
		memcpy(ph, ip + 12, 8);
		ph[9] = 6;
		pvt_be16_put(ph + 10, (unsigned int)tcp_len);
		return pvt_csum_add(0, ph, 12);
	}
	memcpy(ph, ip + 8, 32);
	ph[32] = (uint8_t)(tcp_len >> 24);
	ph[33] = (uint8_t)(tcp_len >> 16);
	ph[34] = (uint8_t)(tcp_len >> 8);
	ph[35] = (uint8_t)tcp_len;
	ph[39] = 6;
	return pvt_csum_add(0, ph, 40);
}

/**
 * pvt_eth_put - an Ethernet header
 * @f: the frame
 * @dst: destination address
 * @src: source address
 * @vid: >= 0: an 802.1Q tag with this TCI (priority 0) after the addresses
 * @type: the EtherType (after the tag, if any)
 *
 * Return: the header's length, 14 or 18.
 */
size_t pvt_eth_put(uint8_t *f, const uint8_t *dst, const uint8_t *src, int vid, unsigned int type)
{
	size_t off = 12;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	if (vid >= 0) {
		pvt_be16_put(f + off, 0x8100);
		pvt_be16_put(f + off + 2, (unsigned int)vid);
		off += 4;
	}
	pvt_be16_put(f + off, type);
	return off + 2;
}
