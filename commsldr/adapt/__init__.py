"""commsldr.adapt"""
