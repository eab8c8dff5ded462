"""commsldr.train"""
